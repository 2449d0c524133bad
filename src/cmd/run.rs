//! `schedlab run`: loads scenarios, plans every (scenario, scheduler, seed) run, executes
//! the runs in parallel on a local rayon pool, and writes the CSV results.
//!
//! Determinism: the run list is fixed before anything runs, results are collected back in
//! plan order (rayon's indexed `collect` keeps it), and nothing wall-clock-dependent reaches
//! a file, so the outputs do not depend on `--jobs` or on which run finishes first. Wall
//! time and progress go to stderr only.
//!
//! Failure isolation: a scenario that fails to load, a run that panics and a file that
//! cannot be written are each reported on stderr and counted; everything else still runs
//! and writes its results, and the exit code is 1 at the end.
//!
//! Outputs are never stale or partial: each run's folder is written under a temporary name
//! and renamed into place, replacing an earlier folder of that name whole
//! (`output::StagedRun`); the sweep's files come after every run, the top-level
//! summary.csv last, each replaced in one rename; they list only this invocation's runs.
//! On SIGINT or SIGTERM (`crate::interrupt`) the runs in progress stop and are discarded,
//! no new run starts, and the sweep's files list the runs that finished.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::hash::Hash;
use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use schedulers::{Registry, SchedulerSpec};
use sim::{GpuFillPoint, NamespaceSummary, Scenario, Summary, columns};

use super::{Stdout, UsageError, expand_inputs, log};
use crate::cli::RunArgs;
use crate::interrupt::Interrupt;
use crate::output::{self, RunKey, sanitize};

use super::DEFAULT_SCHEDULER;

/// Where scenarios are looked for when no path is given.
const DEFAULT_SCENARIOS: &str = "scenarios";

/// `--jobs` is capped at this many threads per core: runs are CPU-bound, so more threads
/// only cost memory (a stack each), and a typo like `--jobs 100000` must not exhaust it.
/// A few per core still lets runs that wait on `exec:` programs overlap.
const MAX_JOBS_PER_CORE: usize = 4;

/// A loaded scenario with the schedulers (each with its run label) and seeds it will run
/// with.
struct Planned {
    scenario: Scenario,
    /// The `--set` values this scenario was loaded with (empty without `--set`).
    point: crate::sweep::Point,
    schedulers: Vec<(SchedulerSpec, String)>,
    seeds: Vec<u64>,
}

/// One run of the plan.
struct Job<'a> {
    planned: &'a Planned,
    scheduler: &'a SchedulerSpec,
    /// The scheduler's run label: the `scheduler` column and directory.
    label: &'a str,
    seed: u64,
}

impl Job<'_> {
    fn key(&self) -> RunKey<'_> {
        RunKey {
            scenario: &self.planned.scenario.name,
            scheduler: self.label,
            seed: self.seed,
            params: &self.planned.point,
        }
    }
}

/// How one run ended.
struct Outcome {
    /// The run's figures if it finished, even if writing its files then failed: the run
    /// itself succeeded, so it keeps its row in the sweep's summary.csv.
    summary: Option<Summary>,
    /// The run's namespaces, for the sweep's namespaces.csv.
    namespaces: Vec<NamespaceSummary>,
    /// False if the run or the writing of its files failed.
    ok: bool,
    /// The run's GPU fill series (GPU trace replays only), for the sweep's chart.
    gpu_fill: Vec<GpuFillPoint>,
    /// True if the run did not finish because schedlab was interrupted: it has no figures
    /// and no folder, and is neither a success nor a failure.
    interrupted: bool,
}

impl Outcome {
    /// A run that failed before it had any figures.
    fn failed() -> Outcome {
        Outcome {
            summary: None,
            namespaces: Vec::new(),
            ok: false,
            gpu_fill: Vec::new(),
            interrupted: false,
        }
    }

    /// A run stopped or never started because schedlab was interrupted.
    fn interrupted() -> Outcome {
        Outcome {
            interrupted: true,
            ..Outcome::failed()
        }
    }
}

/// Runs the command; returns exit code 1 if anything failed along the way, and an error
/// (exit code 2 for usage errors) if nothing could be run at all.
pub fn execute(
    args: RunArgs,
    registry: &mut Registry,
    out: &mut Stdout,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let (args, arguments) = match &args.from {
        Some(path) => {
            let manifest = crate::manifest::read_checked(path)?;
            let argv = ["schedlab", "run"]
                .into_iter()
                .map(String::from)
                .chain(manifest.arguments.iter().cloned());
            let crate::cli::Command::Run(mut stored) =
                <crate::cli::Cli as clap::Parser>::try_parse_from(argv)
                    .map_err(|e| {
                        UsageError(format!(
                            "{}: the stored arguments do not parse: {e}",
                            path.display()
                        ))
                    })?
                    .command
            else {
                return Err(UsageError(format!("{}: not a `run` manifest", path.display())).into());
            };
            stored.out = args.out.clone();
            // A shard given here slices the stored sweep (a shard's own manifest keeps its
            // shard otherwise).
            if args.shard.is_some() || args.shards.is_some() {
                stored.shard = args.shard;
                stored.shards = args.shards;
            }
            (*stored, manifest.arguments)
        }
        None => (args, std::env::args().skip(2).collect()),
    };
    // The slice of the sweep to run is settled first: a bad --shard or environment costs
    // nothing.
    let shard = crate::shard::resolve(args.shard, args.shards, &|name| std::env::var(name).ok())
        .map_err(UsageError)?;
    if let Some((shard, source)) = &shard
        && source != "--shard"
    {
        log(format_args!("note: running shard {shard} ({source})"));
    }
    if let Some(path) = &args.scheduler_config {
        super::register_scheduler_config(path, registry)?;
    }

    registry.set_exec_timeout(args.exec_timeout);
    let registry = &*registry;
    // Command-line schedulers and their arguments are checked before anything is loaded or
    // written, so a typo costs nothing.
    let cli_schedulers = super::cli_schedulers(&args.schedulers, registry)?;
    check_distinct_dirs(&cli_schedulers).map_err(UsageError)?;
    let all_seeds: Vec<u64> = args
        .seeds
        .iter()
        .copied()
        .chain(args.seed_lists.iter().flat_map(|l| l.0.iter().copied()))
        .collect();
    let cli_seeds = dedup(&all_seeds, |seed| {
        log(format_args!("note: ignoring duplicate --seed {seed}"));
    });
    // From here on a signal stops the command cleanly instead of killing it.
    let interrupt = Interrupt::install();

    let inputs = if args.paths.is_empty() {
        default_inputs()?
    } else {
        args.paths.clone()
    };
    let mut failures = 0usize;
    let (files, errors) = expand_inputs(&inputs);
    for error in errors {
        failures += 1;
        log(format_args!("error: {error:#}"));
    }

    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let pool = thread_pool(worker_count(args.jobs, files.len(), cores).0)?;
    install_panic_hook();

    // Loading can be slow for large scenarios and traces, so it runs on the pool too; the
    // results come back in file order and errors are logged in that order.
    // With `--set`, every file is loaded once per parameter point, in (file, point) order.
    let points = crate::sweep::points(&args.sets);
    let inputs: Vec<(&PathBuf, &crate::sweep::Point)> = files
        .iter()
        .flat_map(|f| points.iter().map(move |p| (f, p)))
        .collect();
    let loaded: Vec<Result<Scenario, String>> = pool.install(|| {
        inputs
            .par_iter()
            .map(|&(path, point)| {
                match catch_panic(|| load_at(path, point, &args.load.options(), registry)) {
                    Ok(Ok(scenario)) => Ok(scenario),
                    Ok(Err(error)) => Err(error.to_string()),
                    Err(panic) => Err(format!(
                        "{}: the scenario loader panicked: {panic}",
                        path.display()
                    )),
                }
            })
            .collect()
    });

    let limits = super::bounds::limits(&args.limits);
    let planned = plan(
        &inputs,
        loaded,
        &cli_schedulers,
        &cli_seeds,
        &limits,
        &mut failures,
    );

    // The plan, in (scenario, scheduler, seed) order: the row order of summary.csv.
    let mut jobs: Vec<Job<'_>> = planned
        .iter()
        .flat_map(|p| {
            p.schedulers.iter().flat_map(move |(scheduler, label)| {
                p.seeds.iter().map(move |&seed| Job {
                    planned: p,
                    scheduler,
                    label,
                    seed,
                })
            })
        })
        .collect();
    if jobs.is_empty() {
        if failures == 0 {
            return Err(UsageError("no scenario to run".to_string()).into());
        }
        log(format_args!("error: nothing to run: no scenario loaded"));
        return Ok(ExitCode::FAILURE);
    }
    // A shard keeps its slice of the plan, and each run's position in the whole plan,
    // which `merge` puts the rows back in order by.
    let planned_runs = jobs.len();
    let mut plan_indices: Vec<usize> = (0..planned_runs).collect();
    if let Some((shard, _)) = &shard {
        plan_indices.retain(|&i| shard.owns(i));
        let mut i = 0;
        jobs.retain(|_| {
            i += 1;
            shard.owns(i - 1)
        });
        log(format_args!(
            "shard {shard}: {} of the sweep's {planned_runs} run(s)",
            jobs.len()
        ));
    }

    if interrupt.is_set() {
        // Nothing has been written yet: the output folder stays as it was.
        log(format_args!(
            "interrupted by {} before any run started; nothing written",
            interrupt.signal_name().unwrap_or("a signal")
        ));
        return Ok(ExitCode::from(interrupt.exit_code()));
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating the output directory {}", args.out.display()))?;

    let sweep_arguments = crate::shard::sweep_arguments(&arguments);
    let mut manifest = crate::manifest::hashes(&crate::manifest::files_read(&files)).map(|files| {
        crate::manifest::Manifest {
            schedlab_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: option_env!("SCHEDLAB_GIT_COMMIT").map(str::to_string),
            arguments,
            files,
            seeds: cli_seeds.clone(),
            overrides: args
                .sets
                .iter()
                .map(|o| crate::manifest::OverrideEntry {
                    path: o.path.clone(),
                    values: o.values.clone(),
                })
                .collect(),
            // Marked incomplete until the shard's runs are done; rewritten then.
            shard: shard
                .as_ref()
                .map(|(shard, source)| crate::shard::ShardRecord {
                    index: shard.index,
                    count: shard.count,
                    source: source.clone(),
                    sweep_arguments: sweep_arguments.clone(),
                    planned_runs,
                    complete: false,
                    runs: Vec::new(),
                }),
            merged_from: None,
        }
    });
    let manifest_path = args.out.join("manifest.json");
    if let Err(error) = manifest
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e:#}"))
        .and_then(|m| {
            output::write_atomically(&manifest_path, |temp| crate::manifest::write(temp, m))
        })
    {
        failures += 1;
        log(format_args!("error: {error:#}"));
    }

    let (workers, capped) = worker_count(args.jobs, jobs.len(), cores);
    if let Some(note) = capped {
        log(format_args!("warning: {note}"));
    }
    let pool = thread_pool(workers)?;
    let bar = progress_bar(jobs.len() as u64);
    let progress = Progress::new(jobs.len(), bar.is_hidden());
    let outcomes: Vec<Outcome> = pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                let outcome = run_one(job, registry, &args, &limits, &interrupt, &bar);
                let failed = progress.record(!outcome.ok && !outcome.interrupted);
                if failed > 0 {
                    bar.set_message(format!("{failed} failed"));
                }
                bar.inc(1);
                outcome
            })
            .collect()
    });
    bar.finish_and_clear();
    failures += outcomes.iter().filter(|o| !o.ok && !o.interrupted).count();

    // The sweep's files, the top-level summary.csv last: a summary.csv that is there and
    // new means everything before it was written. Each replaces its predecessor in one
    // rename, and all of them list this invocation's finished runs only.
    failures += write_gpu_fill_charts(&args.out, &planned, &jobs, &outcomes);
    let rows = jobs
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.summary.is_some())
        .map(|(job, o)| (job.key(), o.namespaces.as_slice()));
    let namespaces_path = args.out.join("namespaces.csv");
    if let Err(error) = output::write_atomically(&namespaces_path, |temp| {
        output::write_sweep_namespaces(temp, rows)
    }) {
        failures += 1;
        log(format_args!("error: {error:#}"));
    }
    let summary_path = args.out.join("summary.csv");
    let rows: Vec<_> = jobs
        .iter()
        .zip(&outcomes)
        .filter_map(|(job, o)| o.summary.as_ref().map(|s| (job.key(), s)))
        .collect();
    if let Err(error) = output::write_atomically(&args.out.join("stats.csv"), |temp| {
        write_stats(temp, &rows, args.baseline.as_deref())
    }) {
        failures += 1;
        log(format_args!("error: {error:#}"));
    }
    let summary_written =
        output::write_atomically(&summary_path, |temp| output::write_summary(temp, &rows));
    if let Err(error) = &summary_written {
        failures += 1;
        log(format_args!("error: {error:#}"));
    }
    // A shard's manifest says last how its runs ended, and that it is complete: `merge`
    // takes nothing from a shard that was interrupted or is still running.
    if let Ok(manifest) = &mut manifest
        && let Some(record) = &mut manifest.shard
        && !interrupt.is_set()
    {
        record.complete = true;
        record.runs = jobs
            .iter()
            .zip(&outcomes)
            .zip(&plan_indices)
            .map(|((job, outcome), &index)| crate::shard::ShardRun {
                index,
                dir: output::relative_run_dir(&job.key()),
                status: match (&outcome.summary, outcome.ok) {
                    (Some(_), true) => crate::shard::RunStatus::Ok,
                    (Some(_), false) => crate::shard::RunStatus::NoFolder,
                    (None, _) => crate::shard::RunStatus::Failed,
                },
            })
            .collect();
        if let Err(error) = output::write_atomically(&manifest_path, |temp| {
            crate::manifest::write(temp, manifest)
        }) {
            failures += 1;
            log(format_args!("error: {error:#}"));
        }
    }
    // The charts and index.html are drawn from the files just written, by the same code as
    // `schedlab report`, so the two give byte-identical results.
    let report_started = Instant::now();
    let report = summary_written.and_then(|()| crate::report::build(&args.out));
    match &report {
        Ok(built) => log(format_args!(
            "report: {} ({} charts) in {:.2}s",
            built.index.display(),
            built.charts,
            report_started.elapsed().as_secs_f64()
        )),
        Err(error) if summary_path.exists() => {
            failures += 1;
            log(format_args!("error: the report: {error:#}"));
        }
        Err(_) => {}
    }
    note_other_run_folders(&args.out, &jobs, &outcomes);

    print_table(out, &jobs, &outcomes)?;
    out.line(format_args!("summary: {}", summary_path.display()))?;
    out.line(format_args!(
        "per run: {}/<scenario>/<scheduler>/seed-<N>/{{summary,timeseries,namespaces}}.csv",
        args.out.display()
    ))?;

    let failed_runs = outcomes.iter().filter(|o| !o.ok && !o.interrupted).count();
    let other_errors = match failures - failed_runs {
        0 => String::new(),
        n => format!("; {n} other error(s) reported above"),
    };
    log(format_args!(
        "{} run(s) in {:.2}s wall time, {failed_runs} failed{other_errors}",
        jobs.len(),
        started.elapsed().as_secs_f64()
    ));
    if interrupt.is_set() {
        report_interruption(&interrupt, &jobs, &outcomes, &summary_path);
        return Ok(ExitCode::from(interrupt.exit_code()));
    }
    Ok(if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes stats.csv (see `crate::stats`) from the sweep's summary rows.
fn write_stats(
    path: &Path,
    rows: &[(RunKey<'_>, &Summary)],
    baseline: Option<&str>,
) -> anyhow::Result<()> {
    let columns = output::summary_columns(rows.iter().map(|(_, s)| *s));
    let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let records: Vec<Vec<String>> = rows
        .iter()
        .map(|(key, s)| output::summary_record(key, s, &columns))
        .collect();
    let params: Vec<&str> = rows
        .first()
        .map_or(&[][..], |(key, _)| key.params)
        .iter()
        .map(|(p, _)| p.as_str())
        .collect();
    write_stats_records(path, &params, &names, &records, baseline)
}

/// Writes stats.csv from summary.csv's records (key, the `names` figure columns, then the
/// `params` values): shared by `run` and `merge`, so a merged sweep's statistics are those
/// of the unsharded sweep.
pub(crate) fn write_stats_records(
    path: &Path,
    params: &[&str],
    names: &[&str],
    records: &[Vec<String>],
    baseline: Option<&str>,
) -> anyhow::Result<()> {
    let figures = output::KEY_COLUMNS.len()..output::KEY_COLUMNS.len() + names.len();
    let stat_rows: Vec<crate::stats::Row<'_>> = records
        .iter()
        .map(|record| crate::stats::Row {
            group: std::iter::once(record[0].as_str())
                .chain(record[figures.end..].iter().map(String::as_str))
                .collect(),
            scheduler: &record[1],
            // summary.csv's seeds are the u64s written by `run`.
            seed: record[2].parse().unwrap_or_default(),
            cells: &record[figures.clone()],
        })
        .collect();
    let header: Vec<&str> = std::iter::once("scenario")
        .chain(params.iter().copied())
        .chain(crate::stats::COLUMNS)
        .collect();
    output::write_csv(
        path,
        &header,
        crate::stats::records(&stat_rows, names, baseline).into_iter(),
    )
}

/// Pairs each loaded scenario with its schedulers and seeds, in file order. Scenarios that
/// failed to load, whose runs are estimated above `limits`, or whose output directories
/// would collide with another's, are logged, counted in `failures` and left out.
fn plan(
    files: &[(&PathBuf, &crate::sweep::Point)],
    loaded: Vec<Result<Scenario, String>>,
    cli_schedulers: &[(SchedulerSpec, String)],
    cli_seeds: &[u64],
    limits: &sim::Limits,
    failures: &mut usize,
) -> Vec<Planned> {
    let mut planned = Vec::new();
    // Output directories taken so far (lower-cased, for case-insensitive file systems),
    // and by which file. Only looked up, never iterated, so its order cannot leak out.
    let mut dirs_taken: HashMap<String, &Path> = HashMap::new();
    for (&(path, point), result) in files.iter().zip(loaded) {
        let scenario = match result {
            Ok(scenario) => scenario,
            Err(error) => {
                *failures += 1;
                log(format_args!("error: {error}"));
                continue;
            }
        };
        super::log_profile_warnings(&scenario);
        if let Err(refused) = super::bounds::check(&scenario, path, limits) {
            *failures += 1;
            log(format_args!("error: {refused}"));
            continue;
        }
        let dir = output::scenario_dir(&scenario.name, point).to_lowercase();
        if let Some(other) = dirs_taken.get(&dir) {
            *failures += 1;
            log(format_args!(
                "error: {}: scenario name \"{}\" would share its output directory with {}; give one of them another `name:`",
                path.display(),
                scenario.name,
                other.display()
            ));
            continue;
        }
        dirs_taken.insert(dir, path.as_path());
        let schedulers = if !cli_schedulers.is_empty() {
            cli_schedulers.to_vec()
        } else if !scenario.schedulers.is_empty() {
            // The loader has checked them and their arguments with the registry.
            scenario
                .schedulers
                .iter()
                .map(|s| (s.spec.clone(), s.label.clone()))
                .collect()
        } else {
            let spec = SchedulerSpec::named(DEFAULT_SCHEDULER);
            vec![(spec, DEFAULT_SCHEDULER.to_string())]
        };
        if let Err(error) = check_distinct_dirs(&schedulers) {
            *failures += 1;
            log(format_args!("error: {}: {error}", path.display()));
            continue;
        }
        let seeds = if cli_seeds.is_empty() && !scenario.seeds.is_empty() {
            scenario.seeds.clone()
        } else if cli_seeds.is_empty() {
            vec![scenario.seed]
        } else {
            cli_seeds.to_vec()
        };
        planned.push(Planned {
            scenario,
            point: point.clone(),
            schedulers,
            seeds,
        });
    }
    planned
}

/// Loads `path` with the point's values in place of the file's (see `crate::sweep`); an
/// override whose path names nothing is an error naming the file and the path.
fn load_at(
    path: &Path,
    point: &crate::sweep::Point,
    options: &sim::LoadOptions,
    registry: &Registry,
) -> Result<Scenario, sim::ScenarioError> {
    let check: &sim::SchedulerCheck<'_> = &|spec, profiles| registry.check(spec, profiles);
    if point.is_empty() {
        return sim::load_scenario_with(path, check, options);
    }
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        sim::ScenarioError::file(&shown, format!("cannot read the scenario file: {e}"))
    })?;
    let text = crate::sweep::apply(&text, point)
        .map_err(|message| sim::ScenarioError::file(&shown, message))?;
    let mut scenario = sim::parse_scenario_with(&text, &shown, check, options)?;
    scenario.path = Some(path.to_path_buf());
    Ok(scenario)
}

/// Runs one job and writes its directory; failures are logged, never propagated, so one
/// bad run cannot take the others down. Once `interrupt` is set, a run that has not
/// started does not, and one in progress stops and is discarded (its error, if stopping
/// made it fail, is not reported: it is the interruption's doing).
fn run_one(
    job: &Job<'_>,
    registry: &Registry,
    args: &RunArgs,
    limits: &sim::Limits,
    interrupt: &Interrupt,
    bar: &ProgressBar,
) -> Outcome {
    if interrupt.is_set() {
        return Outcome::interrupted();
    }
    // The page is drawn from the trace, so --view implies --trace.
    let (out, trace) = (args.out.as_path(), args.trace || args.view);
    let key = job.key();
    let what = || {
        format!(
            "run {} / {} / seed {}",
            key.scenario, key.scheduler, key.seed
        )
    };
    let scenario = &job.planned.scenario;
    let build = || registry.build(job.scheduler, &scenario.build_context());
    let result = catch_panic(|| -> Result<_, schedulers::SpecError> {
        let mut simulation = sim::Simulation::new(scenario, build()?, job.seed);
        simulation.set_cancel_flag(interrupt.flag());
        let recording = if trace {
            // The per-pod trace and, for small clusters, the per-node series (nodes.csv)
            // are the detail a report's timelines and heat maps are drawn from; the
            // recording is what the replay page needs beside the trace.
            simulation.enable_trace();
            simulation.enable_node_series();
            Some(crate::view::record::Recorder::attach(
                &mut simulation,
                key.scenario,
                key.scheduler,
                key.seed,
            ))
        } else {
            None
        };
        let run_limits = super::bounds::run_limits(limits, &args.safety);
        let deadline = super::bounds::deadline(args.safety.timeout);
        let result = sim::run_bounded(simulation, &run_limits, deadline)
            .map_err(|stop| super::bounds::stop_message(&stop, &args.safety));
        let view = match recording {
            Some(recording) if result.is_ok() => {
                let (mut data, targets) = recording.finish();
                if args.view && !interrupt.is_set() {
                    crate::view::record::explain_pods(
                        &mut data,
                        &targets,
                        scenario,
                        job.seed,
                        &build,
                        &interrupt.flag(),
                    )?;
                }
                Some(data)
            }
            _ => None,
        };
        Ok((result, view))
    });
    // A run cut short by the flag looks finished; anything that ends after the flag was
    // set is thrown away rather than trusted.
    if interrupt.is_set() {
        return Outcome::interrupted();
    }
    let failed = |message: String| {
        bar.suspend(|| log(format_args!("error: {message}")));
        // Nothing at this run's path may pass for its result.
        if let Err(error) = output::remove_run(out, &key) {
            bar.suspend(|| log(format_args!("error: {error:#}")));
        }
        Outcome::failed()
    };
    let (result, view) = match result {
        Ok(Ok((Ok(result), view))) => (result, view),
        Ok(Ok((Err(failure), _))) => return failed(format!("{} failed: {failure}", what())),
        Ok(Err(error)) => return failed(format!("{}: {error}", what())),
        Err(panic) => return failed(format!("{} failed: panicked: {panic}", what())),
    };
    // A page too large to draw is reported, and the run's other files are kept.
    let mut page_ok = true;
    let written = output::write_run(out, &key, &result, trace)
        .and_then(|staged| {
            if let Some(data) = &view {
                output::write_view_data(staged.dir(), data)?;
                if args.view
                    && let Err(error) = crate::view::write(staged.dir(), None)
                {
                    page_ok = false;
                    bar.suspend(|| {
                        log(format_args!(
                            "error: {}: {} not written: {error:#}",
                            what(),
                            crate::view::PAGE_FILE
                        ));
                    });
                }
            }
            Ok(staged)
        })
        .and_then(|staged| {
            if interrupt.is_set() {
                // Dropping the staged folder deletes it.
                Ok(None)
            } else {
                staged.commit().map(Some)
            }
        });
    let ok = match written {
        Ok(Some(_)) => page_ok,
        Ok(None) => return Outcome::interrupted(),
        Err(error) => {
            bar.suspend(|| log(format_args!("error: {}: {error:#}", what())));
            false
        }
    };
    Outcome {
        summary: Some(result.summary),
        namespaces: result.namespaces,
        ok,
        gpu_fill: result.gpu_fill,
        interrupted: false,
    }
}

/// How many threads to run `work` items on: `--jobs` if given, else one per core, but
/// never more than the items nor [`MAX_JOBS_PER_CORE`] per core. With a note to print
/// when a `--jobs` the user gave was lowered.
pub(crate) fn worker_count(
    requested: Option<NonZeroUsize>,
    work: usize,
    cores: usize,
) -> (usize, Option<String>) {
    let ceiling = cores.max(1).saturating_mul(MAX_JOBS_PER_CORE);
    let wanted = requested.map_or(cores, NonZeroUsize::get);
    let workers = wanted.min(ceiling).min(work).max(1);
    let note = match requested {
        Some(n) if n.get() > workers => Some(if workers == work && work < ceiling {
            format!(
                "--jobs {n} lowered to {workers}: there {}",
                if work == 1 {
                    "is 1 run".to_string()
                } else {
                    format!("are {work} runs")
                }
            )
        } else {
            format!(
                "--jobs {n} lowered to {workers} ({MAX_JOBS_PER_CORE} per CPU core, {cores} core(s))"
            )
        }),
        _ => None,
    };
    (workers, note)
}

/// A pool of `threads` named threads.
pub(crate) fn thread_pool(threads: usize) -> anyhow::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("schedlab-run-{i}"))
        .build()
        .context("starting the thread pool")
}

/// Says on stderr how the interruption left things: which runs finished (and are in
/// summary.csv) and which did not.
fn report_interruption(
    interrupt: &Interrupt,
    jobs: &[Job<'_>],
    outcomes: &[Outcome],
    summary: &Path,
) {
    /// Runs named one by one before the rest are only counted.
    const LISTED: usize = 20;
    let name = |job: &Job<'_>| {
        format!(
            "{}/{}/seed-{}",
            job.planned.scenario.name, job.label, job.seed
        )
    };
    let list = |keep: &dyn Fn(&Outcome) -> bool| -> String {
        let names: Vec<String> = jobs
            .iter()
            .zip(outcomes)
            .filter(|(_, o)| keep(o))
            .map(|(j, _)| name(j))
            .collect();
        match names.len() {
            0 => "none".to_string(),
            n if n > LISTED => format!("{} and {} more", names[..LISTED].join(", "), n - LISTED),
            _ => names.join(", "),
        }
    };
    let finished = outcomes.iter().filter(|o| o.summary.is_some()).count();
    log(format_args!(
        "interrupted by {}: {finished} of {} run(s) finished, listed in {}",
        interrupt.signal_name().unwrap_or("a signal"),
        jobs.len(),
        summary.display()
    ));
    log(format_args!("finished: {}", list(&|o| o.summary.is_some())));
    log(format_args!(
        "not finished (discarded or never started): {}",
        list(&|o| o.interrupted)
    ));
}

/// Notes on stderr the run folders under `out` that this invocation did not write (an
/// earlier invocation's, with other scenarios, schedulers or seeds): they are kept, since
/// deleting folders this invocation does not own could destroy results, but summary.csv
/// does not list them.
fn note_other_run_folders(out: &Path, jobs: &[Job<'_>], outcomes: &[Outcome]) {
    let ours: HashSet<PathBuf> = jobs
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| o.ok)
        .map(|(job, _)| output::run_dir(out, &job.key()))
        .collect();
    let others = output::other_run_folders(out, &ours);
    if let Some(first) = others.first() {
        log(format_args!(
            "note: {} holds {} run folder(s) from earlier invocations (e.g. {}), not listed in its summary.csv",
            out.display(),
            others.len(),
            first.display()
        ));
    }
}

/// `scenarios/` if it exists, else a usage error that says what to do.
fn default_inputs() -> Result<Vec<PathBuf>, UsageError> {
    let dir = PathBuf::from(DEFAULT_SCENARIOS);
    if dir.is_dir() {
        Ok(vec![dir])
    } else {
        Err(UsageError(format!(
            "no scenario given and no {DEFAULT_SCENARIOS}/ directory here; \
             name scenario files or directories: schedlab run SCENARIO|DIR..."
        )))
    }
}

/// Refuses two schedulers whose labels would write to the same directory once sanitized
/// (`exec:a/b` and `exec_a_b`), compared case-insensitively for macOS and Windows.
fn check_distinct_dirs(schedulers: &[(SchedulerSpec, String)]) -> Result<(), String> {
    let mut taken: HashMap<String, &str> = HashMap::new();
    for (_, name) in schedulers {
        let dir = sanitize(name);
        if let Some(other) = taken.insert(dir.to_lowercase(), name) {
            return Err(format!(
                "schedulers \"{other}\" and \"{name}\" would share the output directory \"{dir}\""
            ));
        }
    }
    Ok(())
}

/// The items without repeats, first occurrence kept, order otherwise unchanged; `repeat`
/// is told of each repeat dropped (once per value).
fn dedup<T: Clone + Eq + Hash + Display>(items: &[T], mut repeat: impl FnMut(&T)) -> Vec<T> {
    let mut seen = HashSet::new();
    let mut told = HashSet::new();
    items
        .iter()
        .filter(|item| {
            let first = seen.insert(*item);
            if !first && told.insert(*item) {
                repeat(item);
            }
            first
        })
        .cloned()
        .collect()
}

/// Seconds between two plain progress lines.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Counts runs as they end and, when stderr is not a terminal (a log, CI), prints a plain
/// line every [`PROGRESS_EVERY`] so a long sweep's log shows it is alive. Only stderr sees
/// it: the files do not depend on timing.
struct Progress {
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    started: Instant,
    /// When the last line was printed; `None` when lines are off (the bar shows progress).
    last: Option<Mutex<Instant>>,
}

impl Progress {
    fn new(total: usize, plain: bool) -> Progress {
        let started = Instant::now();
        Progress {
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            started,
            last: plain.then(|| Mutex::new(started)),
        }
    }

    /// Counts one ended run; returns the failures so far.
    fn record(&self, failed: bool) -> usize {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failures = self
            .failed
            .fetch_add(usize::from(failed), Ordering::Relaxed)
            + usize::from(failed);
        let Some(last) = &self.last else {
            return failures;
        };
        let Ok(mut last) = last.lock() else {
            return failures;
        };
        if last.elapsed() < PROGRESS_EVERY || done == self.total {
            return failures;
        }
        *last = Instant::now();
        let elapsed = self.started.elapsed().as_secs_f64();
        let left = elapsed / done as f64 * (self.total - done) as f64;
        log(format_args!(
            "progress: {done}/{} runs done, {failures} failed, about {left:.0}s left",
            self.total
        ));
        failures
    }
}

/// Runs done out of total with an ETA on stderr; hidden when stderr is not a terminal, so
/// logs and CI output get no control characters.
fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{bar:40} {pos}/{len} runs  {msg}  elapsed {elapsed}  ETA {eta}",
    )
    .map(|style| style.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    // Redraws while long runs are in progress, so the elapsed time and ETA stay current.
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// One line per run: scenario, scheduler, seed, pods scheduled/submitted, p99 latency and
/// mean CPU allocation, in plan order. Failed and interrupted runs are listed too, marked
/// as such.
fn print_table(out: &mut Stdout, jobs: &[Job<'_>], outcomes: &[Outcome]) -> anyhow::Result<()> {
    let header = [
        "scenario",
        "scheduler",
        "seed",
        "scheduled",
        "p99_latency_s",
        "cpu_alloc_mean",
    ];
    let mut rows: Vec<[String; 6]> = vec![header.map(str::to_string)];
    for (job, outcome) in jobs.iter().zip(outcomes) {
        let (scheduled, p99, cpu) = match &outcome.summary {
            Some(s) => (
                format!(
                    "{}/{}",
                    s.count(&columns::PODS_SCHEDULED),
                    s.count(&columns::PODS_SUBMITTED)
                ),
                format!("{:.3}", s.time(&columns::LATENCY_P99).as_secs_f64()),
                format!(
                    "{:.3}",
                    s.number(&columns::CPU_ALLOC_MEAN).unwrap_or_default()
                ),
            ),
            None if outcome.interrupted => {
                ("INTERRUPTED".to_string(), "-".to_string(), "-".to_string())
            }
            None => ("FAILED".to_string(), "-".to_string(), "-".to_string()),
        };
        rows.push([
            format!(
                "{}{}",
                job.planned.scenario.name,
                crate::sweep::point_label(&job.planned.point)
            ),
            job.label.to_string(),
            job.seed.to_string(),
            scheduled,
            p99,
            cpu,
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            let pad = " ".repeat(width - cell.chars().count());
            // Text left-aligned, figures right-aligned so digits line up.
            if i < 2 {
                line.push_str(cell);
                line.push_str(&pad);
            } else {
                line.push_str(&pad);
                line.push_str(cell);
            }
            line.push_str("  ");
        }
        out.line(line.trim_end())?;
    }
    Ok(())
}

thread_local! {
    /// Set while this thread runs code under [`catch_panic`].
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// The message and location of the last panic caught on this thread.
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the default panic message for panics that [`catch_panic`] will catch: those
/// are reported as one `error:` line naming the run, instead of the default hook's
/// multi-line output scribbling over the progress bar. Other panics (bugs in the CLI
/// itself) still go to the default hook.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                let message = info.payload_as_str().unwrap_or("a non-text panic payload");
                let text = match info.location() {
                    Some(at) => {
                        format!("{message} (at {}:{}:{})", at.file(), at.line(), at.column())
                    }
                    None => message.to_string(),
                };
                CAUGHT.with(|caught| *caught.borrow_mut() = Some(text));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into an error message (with its location when the hook of
/// [`install_panic_hook`] saw it).
pub(crate) fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    CATCHING.with(|c| c.set(true));
    // AssertUnwindSafe: after a panic, everything `f` touched mutably (the scheduler and
    // the simulation) is dropped unseen; what it shares is only read (the scenario, the
    // registry), so no broken invariant can be observed afterwards.
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(false));
    result.map_err(|payload| {
        CAUGHT
            .with(|caught| caught.borrow_mut().take())
            .unwrap_or_else(|| {
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-text panic payload".to_string())
            })
    })
}

/// For every GPU trace replay in the sweep, writes `<out>/<scenario>/gpu-fill.csv` (mean,
/// lowest and highest allocated share across seeds, per scheduler and demand step) and the
/// chart of it (`gpu-fill.png`, `gpu-fill.svg`); returns the number of failures, each
/// logged. Schedulers whose runs all failed are left out.
fn write_gpu_fill_charts(
    out: &Path,
    planned: &[Planned],
    jobs: &[Job<'_>],
    outcomes: &[Outcome],
) -> usize {
    let mut failures = 0;
    for p in planned.iter().filter(|p| p.scenario.gpu_fill.is_some()) {
        let mut curves = Vec::new();
        for (_, scheduler) in &p.schedulers {
            let runs: Vec<&[GpuFillPoint]> = jobs
                .iter()
                .zip(outcomes)
                .filter(|(j, o)| {
                    std::ptr::eq(j.planned, p) && j.label == scheduler && !o.gpu_fill.is_empty()
                })
                .map(|(_, o)| o.gpu_fill.as_slice())
                .collect();
            if !runs.is_empty() {
                curves.push(crate::gpu_fill::Curve::new(scheduler, &runs));
            }
        }
        if curves.is_empty() {
            continue;
        }
        let dir = out.join(output::scenario_dir(&p.scenario.name, &p.point));
        let title = format!(
            "{}: GPU allocated as demand arrives ({} seed{})",
            p.scenario.name,
            p.seeds.len(),
            if p.seeds.len() == 1 { "" } else { "s" }
        );
        let result = std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating {}", dir.display()))
            .and_then(|_| {
                output::write_atomically(&dir.join("gpu-fill.csv"), |temp| {
                    output::write_csv(
                        temp,
                        &crate::gpu_fill::MEAN_COLUMNS,
                        crate::gpu_fill::mean_records(&curves).into_iter(),
                    )
                })
            })
            .and_then(|_| crate::gpu_fill::write_charts(&dir, &title, &curves));
        if let Err(error) = result {
            failures += 1;
            log(format_args!("error: {error:#}"));
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_keeps_first_occurrences_in_order() {
        let mut repeats = Vec::new();
        assert_eq!(
            dedup(&[3, 1, 3, 2, 1, 3], |r| repeats.push(*r)),
            vec![3, 1, 2]
        );
        assert_eq!(repeats, [3, 1]);
    }

    #[test]
    fn jobs_are_capped_by_runs_and_cores() {
        let n = |v| NonZeroUsize::new(v);
        // The default: one per core, no more than the runs, no note.
        assert_eq!(worker_count(None, 100, 8), (8, None));
        assert_eq!(worker_count(None, 3, 8), (3, None));
        assert_eq!(worker_count(n(2), 100, 8), (2, None));
        assert_eq!(worker_count(n(32), 100, 8), (32, None));
        let (workers, note) = worker_count(n(100_000), 4, 2);
        assert_eq!(workers, 4);
        assert_eq!(
            note.unwrap(),
            "--jobs 100000 lowered to 4: there are 4 runs"
        );
        let (workers, note) = worker_count(n(100_000), 1_000, 2);
        assert_eq!(workers, 8);
        assert!(note.unwrap().contains("4 per CPU core, 2 core(s)"));
        // Nothing to run still gets a thread, never zero (rayon's "default").
        assert_eq!(worker_count(None, 0, 2).0, 1);
    }

    #[test]
    fn scheduler_directories_must_differ() {
        let names = |v: &[&str]| {
            v.iter()
                .map(|s| (SchedulerSpec::named(*s), s.to_string()))
                .collect::<Vec<_>>()
        };
        assert!(check_distinct_dirs(&names(&["first-fit", "random"])).is_ok());
        assert!(check_distinct_dirs(&names(&["exec:a/b", "exec_a_b"])).is_err());
        assert!(check_distinct_dirs(&names(&["Random", "random"])).is_err());
    }

    #[test]
    fn panics_become_errors_with_their_message() {
        install_panic_hook();
        let caught = catch_panic(|| -> u32 { panic!("boom {}", 7) });
        let message = caught.unwrap_err();
        assert!(message.starts_with("boom 7 (at "), "{message}");
        assert_eq!(catch_panic(|| 5), Ok(5));
    }
}
