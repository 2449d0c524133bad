//! `schedlab plan`: capacity planning. Finds the smallest node count of a pool for which
//! every seed's run meets an objective (`--slo`, see `crate::slo`).
//!
//! A probe is one count with every seed; its runs go in parallel on a rayon pool, and the
//! probes of a bisection follow one another, since each depends on the last. Both ends of
//! [--min, --max] are probed first: `max` failing means there is no answer, `min` passing
//! is the answer. Between them the bisection keeps a failing count below a passing one.
//! Monotonicity is checked where the probes allow it: for the verdict (a passing count
//! below a failing one) and for each term on each seed, whose flips the verdict over all
//! seeds can hide.
//!
//! The count is changed through `crate::sweep::apply`, the `--set` machinery, so a probe
//! is the scenario file with other values in place and every error still names the file's
//! line. An autoscaled pool is pinned to the probed count: `autoscaling.max` (and
//! `autoscaling.min` where the file writes it) are set to the count too, so the cluster
//! autoscaler cannot add nodes beyond it, and where `min` is pinned cannot remove any. A
//! count is what is being bought; letting the autoscaler grow the pool would answer a
//! different question (what `max` to set).
//!
//! Outputs are deterministic: probes are fixed by the bisection, seeds' results are
//! collected in seed order, and the table, plan.csv and the charts list counts in
//! ascending order, so they do not depend on --jobs.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use rayon::prelude::*;
use schedulers::{Registry, SchedulerSpec};
use sim::{Scenario, Summary, Unit, Value};

use super::{Stdout, UsageError, log};
use crate::cli::PlanArgs;
use crate::report::charts::{self, Chart, Labels, Series};
use crate::slo::{Slo, Term};

/// Seeds 1 to this when neither the command line nor the scenario lists any.
const DEFAULT_SEEDS: u64 = 3;

/// The default `--max` is this many times the pool's count.
const DEFAULT_MAX_FACTOR: u32 = 4;

/// One pool to plan, as the scenario file has it.
struct Pool {
    /// Its `name:`.
    name: String,
    /// Its index in `cluster.nodePools`, for override paths that cannot mistake a numeric
    /// name for an index.
    index: usize,
    /// Its `count:` in the file.
    count: u32,
    /// Whether it has `autoscaling:`, and whether that writes `min:`.
    autoscaled: bool,
    pins_min: bool,
    /// `autoscaling.pricePerHour` where written.
    price: Option<f64>,
    /// The range to search.
    min: u32,
    max: u32,
}

impl Pool {
    /// The `--set` point that gives the pool `count` nodes.
    fn point(&self, count: u32) -> crate::sweep::Point {
        let base = format!("cluster.nodePools.{}", self.index);
        let mut point = vec![(format!("{base}.count"), count.to_string())];
        if self.autoscaled {
            point.push((format!("{base}.autoscaling.max"), count.to_string()));
            if self.pins_min {
                point.push((format!("{base}.autoscaling.min"), count.to_string()));
            }
        }
        point
    }
}

/// One probed count: the runs' values of each term, seed by seed.
struct Probe {
    /// `values[term][seed]`.
    values: Vec<Vec<Value>>,
    /// Every term holds on every seed.
    pass: bool,
}

/// What planning one pool found.
struct Planned {
    probes: BTreeMap<u32, Probe>,
    /// The smallest passing count the bisection found.
    answer: Option<u32>,
}

/// Runs the command: exit code 0 when some planned pool meets the objective, 1 when none
/// does (the table is printed either way), an error before anything runs for a bad pool,
/// range or scheduler (exit code 2) or a scenario that does not load.
pub fn execute(
    args: PlanArgs,
    registry: &mut Registry,
    out: &mut Stdout,
) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.scheduler_config {
        super::register_scheduler_config(path, registry)?;
    }
    let registry = &*registry;
    let path = args.scenario.as_path();
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{shown}: cannot read the scenario file"))?;
    let check: &sim::SchedulerCheck<'_> = &|spec, profiles| registry.check(spec, profiles);
    let options = args.load.options();
    let base = sim::parse_scenario_with(&text, &shown, check, &options)?;
    super::log_profile_warnings(&base);

    let mut names: Vec<&String> = Vec::new();
    for name in &args.pools {
        if names.contains(&name) {
            log(format_args!("note: ignoring duplicate --pool {name}"));
        } else {
            names.push(name);
        }
    }
    let pools = names
        .into_iter()
        .map(|name| pool(&text, &base, name, &args))
        .collect::<Result<Vec<_>, _>>()?;
    let (spec, label) = super::pick_scheduler(args.scheduler.as_deref(), registry, &base)?;
    let seeds = match &args.seeds {
        Some(list) => list.0.clone(),
        None if !base.seeds.is_empty() => base.seeds.clone(),
        None => (1..=DEFAULT_SEEDS).collect(),
    };
    let limits = super::bounds::limits(&args.limits);
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let (workers, capped) = super::run::worker_count(args.jobs, seeds.len(), cores);
    if let Some(note) = capped {
        log(format_args!("warning: {note}"));
    }
    let threads = super::run::thread_pool(workers)?;
    super::run::install_panic_hook();

    let terms = &args.slo.0;
    let mut results = Vec::new();
    for pool in &pools {
        let mut probe = |count: u32| -> anyhow::Result<Probe> {
            let text = crate::sweep::apply(&text, &pool.point(count))
                .map_err(|message| anyhow::anyhow!("{shown}: {message}"))?;
            let mut scenario = sim::parse_scenario_with(&text, &shown, check, &options)
                .with_context(|| format!("pool {} at {count} node(s)", pool.name))?;
            scenario.path = Some(path.to_path_buf());
            super::bounds::check(&scenario, path, &limits).map_err(|refused| {
                anyhow::anyhow!("pool {} at {count} node(s): {refused}", pool.name)
            })?;
            let summaries = threads.install(|| {
                seeds
                    .par_iter()
                    .map(|&seed| run_one(&scenario, registry, &spec, seed, &limits))
                    .collect::<Vec<_>>()
            });
            let summaries = summaries
                .into_iter()
                .zip(&seeds)
                .map(|(s, seed)| {
                    s.map_err(|e| {
                        anyhow::anyhow!("pool {} at {count} node(s), seed {seed}: {e}", pool.name)
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(evaluate(terms, &summaries))
        };
        let planned = bisect(pool.min, pool.max, &mut probe)?;
        results.push(planned);
    }

    out.line(format_args!(
        "plan {}: {} seed(s) ({}), scheduler {label}, objective {}",
        base.name,
        seeds.len(),
        seed_text(&seeds),
        objective_text(&args.slo)
    ))?;
    let mut answers = Vec::new();
    for (pool, planned) in pools.iter().zip(&results) {
        out.line("")?;
        print_table(out, pool, terms, planned)?;
        for warning in monotonicity(&planned.probes) {
            out.line(format_args!("warning: pool {}: {warning}", pool.name))?;
        }
        for warning in seed_monotonicity(&planned.probes, terms, &seeds) {
            out.line(format_args!("warning: pool {}: {warning}", pool.name))?;
        }
        match planned.answer {
            Some(n) => {
                out.line(format_args!(
                    "pool {}: {n} node(s) meet the objective on every seed ({})",
                    pool.name,
                    price_text(pool, n)
                ))?;
                answers.push((pool, n));
            }
            None => out.line(format_args!(
                "pool {}: no count up to {} meets the objective",
                pool.name, pool.max
            ))?,
        }
    }
    if pools.len() > 1 {
        out.line("")?;
        out.line(cheapest_text(&answers))?;
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    write_csv(&args.out, &pools, terms, &results)?;
    write_charts(&args.out, &pools, terms, &results)?;
    out.line("")?;
    out.line(format_args!(
        "wrote {} and one chart per metric",
        args.out.join("plan.csv").display()
    ))?;
    Ok(if answers.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The pool `name` of the scenario, with its range to search; a usage error naming the
/// scenario's pools when there is no such pool.
fn pool(text: &str, base: &Scenario, name: &str, args: &PlanArgs) -> anyhow::Result<Pool> {
    let shown = args.scenario.display();
    let names = crate::sweep::names_at(text, "cluster.nodePools");
    let Some(index) = names.iter().position(|n| n.as_deref() == Some(name)) else {
        let listed: Vec<&str> = names.iter().flatten().map(String::as_str).collect();
        let known = if listed.is_empty() {
            "it has no cluster.nodePools".to_string()
        } else {
            format!("its pools are {}", listed.join(", "))
        };
        return Err(UsageError(format!(
            "{shown}: no node pool named \"{name}\" (--pool): {known}"
        ))
        .into());
    };
    let at = format!("cluster.nodePools.{index}");
    let count = match crate::sweep::scalar_at(text, &format!("{at}.count")) {
        // The scenario loaded, so a written count is a valid one.
        Some(written) => written.trim().parse::<u32>().unwrap_or(1),
        None => {
            return Err(UsageError(format!(
                "{shown}: pool \"{name}\" does not write `count:`; add `count: 1` (its default) so that plan can change it"
            ))
            .into());
        }
    };
    let group = base
        .autoscaler
        .iter()
        .flat_map(|a| &a.groups)
        .find(|g| g.name == name);
    let written =
        |field: &str| crate::sweep::scalar_at(text, &format!("{at}.autoscaling.{field}")).is_some();
    let min = args.min;
    let max = args.max.unwrap_or_else(|| {
        let autoscaled_max = group.map_or(0, |g| g.max);
        count
            .saturating_mul(DEFAULT_MAX_FACTOR)
            .max(autoscaled_max)
            .max(min)
            .max(1)
    });
    if min > max {
        return Err(UsageError(format!("--min {min} is above --max {max}")).into());
    }
    Ok(Pool {
        name: name.to_string(),
        index,
        count,
        autoscaled: group.is_some(),
        pins_min: group.is_some() && written("min"),
        price: group
            .filter(|_| written("pricePerHour"))
            .map(|g| g.price_per_hour),
        min,
        max,
    })
}

/// Plays one seed; a failed run (a scheduler failure, a limit, a panic) is an error.
fn run_one(
    scenario: &Scenario,
    registry: &Registry,
    spec: &SchedulerSpec,
    seed: u64,
    limits: &sim::Limits,
) -> Result<Summary, String> {
    let run_limits = sim::RunLimits {
        max_sim_time: None,
        max_events: Some(limits.max_events),
        max_pods: Some(limits.max_pods),
    };
    let result = super::run::catch_panic(|| -> Result<_, String> {
        let scheduler = registry
            .build(spec, &scenario.build_context())
            .map_err(|e| e.to_string())?;
        let simulation = sim::Simulation::new(scenario, scheduler, seed);
        sim::run_bounded(simulation, &run_limits, || false).map_err(|stop| {
            super::bounds::stop_message(
                &stop,
                &crate::cli::SafetyArgs {
                    max_sim_time: None,
                    timeout: None,
                },
            )
        })
    });
    match result {
        Ok(Ok(result)) => Ok(result.summary),
        Ok(Err(e)) => Err(format!("the run failed: {e}")),
        Err(panic) => Err(format!("the run panicked: {panic}")),
    }
}

/// Each term's values over the seeds, and whether all hold.
fn evaluate(terms: &[Term], summaries: &[Summary]) -> Probe {
    let values: Vec<Vec<Value>> = terms
        .iter()
        .map(|t| summaries.iter().map(|s| t.value_in(s)).collect())
        .collect();
    let pass = terms
        .iter()
        .zip(&values)
        .all(|(t, vs)| vs.iter().all(|v| t.holds(v)));
    Probe { values, pass }
}

/// The bisection over [min, max]: both ends first, then halves, keeping a failing count
/// below a passing one. Every probe is kept.
fn bisect(
    min: u32,
    max: u32,
    probe: &mut dyn FnMut(u32) -> anyhow::Result<Probe>,
) -> anyhow::Result<Planned> {
    let mut probes = BTreeMap::new();
    let mut at = |n: u32, probes: &mut BTreeMap<u32, Probe>| -> anyhow::Result<bool> {
        if let Some(p) = probes.get(&n) {
            return Ok(p.pass);
        }
        let p = probe(n)?;
        let pass = p.pass;
        probes.insert(n, p);
        Ok(pass)
    };
    let min_passes = at(min, &mut probes)?;
    let max_passes = at(max, &mut probes)?;
    let answer = if min_passes {
        Some(min)
    } else if !max_passes {
        None
    } else {
        let (mut fail, mut pass) = (min, max);
        while pass - fail > 1 {
            let mid = fail + (pass - fail) / 2;
            if at(mid, &mut probes)? {
                pass = mid;
            } else {
                fail = mid;
            }
        }
        Some(pass)
    };
    Ok(Planned { probes, answer })
}

/// Every pair of probed counts where a smaller one passes and a larger one fails: the
/// objective is not monotone in the count there, so a bisection may miss the smallest
/// passing count.
fn monotonicity(probes: &BTreeMap<u32, Probe>) -> Vec<String> {
    let mut warnings = Vec::new();
    for (&low, p) in probes {
        if !p.pass {
            continue;
        }
        for (&high, q) in probes.range(low + 1..) {
            if !q.pass {
                warnings.push(format!(
                    "not monotone: {low} node(s) meet the objective but {high} do not; the answer may not be the smallest count that does"
                ));
            }
        }
    }
    warnings
}

/// Every term and seed whose verdict flips from holding at a smaller probed count to
/// failing at a larger one, where the probes as a whole do not (those `monotonicity`
/// reports): the verdict over all seeds can look monotone while one seed's metric is not,
/// which says the answer rests on how the seeds happened to fall. One line per
/// (term, seed, failing count), naming the largest smaller count where the term held.
fn seed_monotonicity(probes: &BTreeMap<u32, Probe>, terms: &[Term], seeds: &[u64]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (t, term) in terms.iter().enumerate() {
        for (s, seed) in seeds.iter().enumerate() {
            let mut held: Option<(u32, bool)> = None;
            for (&count, probe) in probes {
                let Some(value) = probe.values.get(t).and_then(|v| v.get(s)) else {
                    continue;
                };
                if term.holds(value) {
                    held = Some((count, probe.pass));
                } else if let Some((low, low_passed)) = held
                    && (!low_passed || probe.pass)
                {
                    warnings.push(format!(
                        "not monotone on seed {seed}: {} holds at {low} node(s) but not at {count} ({} {} there)",
                        term.text,
                        term.column.name,
                        cell(Some(value))
                    ));
                }
            }
        }
    }
    warnings
}

/// The value as a table shows it: summary.csv's text without trailing zeros, `-` when
/// missing.
fn cell(value: Option<&Value>) -> String {
    let text = value.map(Value::render).unwrap_or_default();
    if text.is_empty() {
        return "-".to_string();
    }
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// The header of each term's column: the summary column, numbered from the second
/// occurrence so that two terms on one column stay apart (`latency_p99_s_2`).
fn headers(terms: &[Term]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        let repeats = terms[..i]
            .iter()
            .filter(|u| u.column.name == t.column.name)
            .count();
        out.push(if repeats == 0 {
            t.column.name.to_string()
        } else {
            format!("{}_{}", t.column.name, repeats + 1)
        });
    }
    out
}

/// One pool's probes as an aligned table, counts ascending.
fn print_table(
    out: &mut Stdout,
    pool: &Pool,
    terms: &[Term],
    planned: &Planned,
) -> anyhow::Result<()> {
    out.line(format_args!(
        "pool {} (count {} in the scenario{}), searched {}..={}:",
        pool.name,
        pool.count,
        if pool.autoscaled {
            ", autoscaled: pinned to each probed count"
        } else {
            ""
        },
        pool.min,
        pool.max
    ))?;
    let mut rows: Vec<Vec<String>> = vec![
        std::iter::once("count".to_string())
            .chain(terms.iter().map(|t| t.text.clone()))
            .chain(std::iter::once("result".to_string()))
            .collect(),
    ];
    for (count, p) in &planned.probes {
        let mut row = vec![count.to_string()];
        for (t, vs) in terms.iter().zip(&p.values) {
            row.push(cell(t.worst(vs)));
        }
        row.push(if p.pass { "pass" } else { "FAIL" }.to_string());
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        out.line(format_args!("  {}", cells.join("  ").trim_end()))?;
    }
    Ok(())
}

/// The seeds, as a range when they are one.
fn seed_text(seeds: &[u64]) -> String {
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if seeds.len() > 1 && b - a + 1 == seeds.len() as u64 => {
            format!("seeds {a}..={b}")
        }
        _ => {
            let listed: Vec<String> = seeds.iter().map(u64::to_string).collect();
            format!("seed {}", listed.join(", "))
        }
    }
}

/// The objective as parsed terms, joined.
fn objective_text(slo: &Slo) -> String {
    let terms: Vec<&str> = slo.0.iter().map(|t| t.text.as_str()).collect();
    terms.join(", ")
}

/// A count's price per hour, or that it is unknown.
fn price_text(pool: &Pool, count: u32) -> String {
    match pool.price {
        Some(p) => format!(
            "{} per hour at {} each",
            sim::observe::summary::float(p * f64::from(count))
                .trim_end_matches('0')
                .trim_end_matches('.'),
            p
        ),
        None => "price unknown: the pool has no autoscaling.pricePerHour".to_string(),
    }
}

/// The line naming the cheapest pool that meets the objective.
fn cheapest_text(answers: &[(&Pool, u32)]) -> String {
    if answers.is_empty() {
        return "no planned pool meets the objective".to_string();
    }
    // The first of equal prices wins: --pool order decides ties.
    let mut best: Option<(&Pool, u32, f64)> = None;
    for &(pool, n) in answers {
        if let Some(p) = pool.price {
            let cost = p * f64::from(n);
            if best.is_none_or(|(_, _, c)| cost < c) {
                best = Some((pool, n, cost));
            }
        }
    }
    let unpriced: Vec<&str> = answers
        .iter()
        .filter(|(p, _)| p.price.is_none())
        .map(|(p, _)| p.name.as_str())
        .collect();
    let unpriced = if unpriced.is_empty() {
        String::new()
    } else {
        format!(" ({} not compared: price unknown)", unpriced.join(", "))
    };
    match best {
        Some((pool, n, _)) => format!(
            "cheapest: pool {} with {n} node(s), {}{unpriced}",
            pool.name,
            price_text(pool, n)
        ),
        None => {
            format!("cheapest: unknown, no pool that meets the objective has a price{unpriced}")
        }
    }
}

/// plan.csv: one row per pool and probed count (counts ascending), each term's worst value
/// over the seeds as summary.csv writes it, and whether the count passes.
fn write_csv(
    dir: &Path,
    pools: &[Pool],
    terms: &[Term],
    results: &[Planned],
) -> anyhow::Result<()> {
    let path = dir.join("plan.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["pool".to_string(), "count".to_string()];
    header.extend(headers(terms));
    header.push("pass".to_string());
    w.write_record(&header)?;
    for (pool, planned) in pools.iter().zip(results) {
        for (count, p) in &planned.probes {
            let mut row = vec![pool.name.clone(), count.to_string()];
            for (t, vs) in terms.iter().zip(&p.values) {
                row.push(t.worst(vs).map(Value::render).unwrap_or_default());
            }
            row.push(p.pass.to_string());
            w.write_record(&row)?;
        }
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// One chart per term: its worst value over the seeds against the count, a line per pool
/// with the seeds' range as a band, and the objective's bound as a flat line.
fn write_charts(
    dir: &Path,
    pools: &[Pool],
    terms: &[Term],
    results: &[Planned],
) -> anyhow::Result<()> {
    for ((t, name), i) in terms.iter().zip(headers(terms)).zip(0..) {
        let mut series = Vec::new();
        let (mut lo, mut hi) = (u32::MAX, 0);
        for (pool, planned) in pools.iter().zip(results) {
            let mut points = Vec::new();
            let mut band = Vec::new();
            for (&count, p) in &planned.probes {
                lo = lo.min(count);
                hi = hi.max(count);
                let numbers: Vec<f64> = p.values[i].iter().filter_map(Value::as_f64).collect();
                if let Some(worst) = t.worst(&p.values[i]).and_then(Value::as_f64) {
                    let x = f64::from(count);
                    points.push((x, worst));
                    let min = numbers.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    band.push((x, min, max));
                }
            }
            if !points.is_empty() {
                series.push(Series {
                    name: format!("pool {}", pool.name),
                    points,
                    band,
                    whiskers: Vec::new(),
                    final_in_legend: false,
                });
            }
        }
        series.push(Series {
            name: format!("objective {}", t.text),
            points: vec![(f64::from(lo), t.bound), (f64::from(hi), t.bound)],
            band: Vec::new(),
            whiskers: Vec::new(),
            final_in_legend: false,
        });
        let unit = match t.column.unit {
            Unit::Seconds => " (s)",
            _ => "",
        };
        let title = format!("{} by node count (worst of the seeds)", t.column.name);
        let y = format!("{}{unit}", t.column.name);
        let labels = Labels {
            title: &title,
            x: "nodes in the pool",
            y: &y,
        };
        charts::write(&dir.join(&name), &labels, &Chart::Lines(&series), false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(pass: bool) -> Probe {
        Probe {
            values: Vec::new(),
            pass,
        }
    }

    #[test]
    fn bisection_finds_the_threshold_with_few_probes() {
        // Counts from 5 up pass: probes 0 (fail), 16 (pass), 8, 4 (fail), 6, 5.
        let mut probed = Vec::new();
        let planned = bisect(0, 16, &mut |n| {
            probed.push(n);
            Ok(probe(n >= 5))
        })
        .unwrap();
        assert_eq!(planned.answer, Some(5));
        assert_eq!(probed, [0, 16, 8, 4, 6, 5]);
        assert!(monotonicity(&planned.probes).is_empty());
        let none = bisect(1, 3, &mut |_| Ok(probe(false))).unwrap();
        assert_eq!(none.answer, None);
        assert_eq!(none.probes.len(), 2);
        let at_min = bisect(2, 2, &mut |_| Ok(probe(true))).unwrap();
        assert_eq!((at_min.answer, at_min.probes.len()), (Some(2), 1));
    }

    #[test]
    fn a_pass_below_a_fail_is_reported() {
        // min passes and max fails: the answer is min, with a warning.
        let planned = bisect(1, 4, &mut |n| Ok(probe(n == 1))).unwrap();
        assert_eq!(planned.answer, Some(1));
        let warnings = monotonicity(&planned.probes);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("1 node(s) meet the objective but 4 do not"));
    }

    #[test]
    fn a_seed_that_flips_is_reported_even_when_the_verdict_does_not() {
        // pending_at_end==0 on seeds 7 and 8: seed 7 meets it at 4 nodes but not at 6;
        // the verdict (both seeds) fails at 4 and 6 and passes at 8, so it is monotone and
        // only the per-seed check sees seed 7's flip.
        let terms = crate::slo::parse("pending_at_end==0").unwrap().0;
        let at = |pending: [u64; 2]| Probe {
            values: vec![pending.iter().map(|&p| Value::Count(p)).collect()],
            pass: pending == [0, 0],
        };
        let probes = BTreeMap::from([
            (2, at([3, 3])),
            (4, at([0, 1])),
            (6, at([1, 0])),
            (8, at([0, 0])),
        ]);
        assert!(monotonicity(&probes).is_empty());
        assert_eq!(
            seed_monotonicity(&probes, &terms, &[7, 8]),
            [
                "not monotone on seed 7: pending_at_end==0 holds at 4 node(s) but not at 6 (pods_pending_at_end 1 there)"
            ]
        );
        // A flip the verdict shows too is left to `monotonicity`.
        let probes = BTreeMap::from([(2, at([0, 0])), (4, at([1, 0]))]);
        assert_eq!(monotonicity(&probes).len(), 1);
        assert!(seed_monotonicity(&probes, &terms, &[7, 8]).is_empty());
    }

    #[test]
    fn cells_trim_zeros() {
        assert_eq!(cell(Some(&Value::Fraction(999, 1000))), "0.999");
        assert_eq!(cell(Some(&Value::Count(3))), "3");
        assert_eq!(cell(Some(&Value::Fraction(2, 1))), "2");
        assert_eq!(cell(Some(&Value::Missing)), "-");
        assert_eq!(cell(None), "-");
    }
}
