//! `schedlab merge SHARD_DIR... --out DIR`: puts the outputs of a sharded sweep (`run
//! --shard K/N`, see `crate::shard`) back together.
//!
//! Before writing anything it checks that the directories are the shards of one sweep:
//! every manifest has a complete `shard` record, all agree on schedlab's version and
//! commit, the sweep's arguments (without the per-shard ones), the files' hashes, the
//! seeds, the overrides, the number of shards and of planned runs; no shard comes twice
//! and none is missing; and every run of the plan is in exactly the shard it belongs to.
//!
//! The merged summary.csv, stats.csv and namespaces.csv are byte-identical to the
//! unsharded sweep's: rows go back in plan order (each shard's manifest gives its runs'
//! positions in the plan), summary.csv's figure columns are rebuilt as `run` builds them
//! (each run's own columns, from its folder's summary.csv header, in the order first met),
//! and stats.csv is computed from those records by the same code as `run`'s. Cells are
//! copied as text, never reparsed as numbers, so nothing is rounded twice.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::{Stdout, UsageError, log};
use crate::cli::MergeArgs;
use crate::manifest::Manifest;
use crate::output::{self, KEY_COLUMNS, NAMESPACE_COLUMNS};
use crate::shard::{RunStatus, ShardRecord, ShardRun};

/// One shard's directory, manifest and summary.csv.
struct ShardOut {
    dir: PathBuf,
    manifest: Manifest,
    /// summary.csv's header.
    header: Vec<String>,
    /// summary.csv's records, in the shard's plan order.
    records: Vec<Vec<String>>,
}

impl ShardOut {
    fn record(&self) -> &ShardRecord {
        // `load` refuses manifests without one.
        self.manifest.shard.as_ref().expect("checked in load")
    }
}

/// A run of the merged sweep with a summary.csv row.
struct Row<'a> {
    shard: &'a ShardOut,
    run: &'a ShardRun,
    /// The row in the shard's summary.csv.
    record: &'a [String],
    /// The run's own figure columns.
    columns: Vec<String>,
}

/// Runs the command: exit code 1 if a run of the sweep had failed in its shard (the merge
/// is still written, as `run` writes a sweep with failed runs), an error if the shards do
/// not make up one sweep.
pub fn execute(args: MergeArgs, out: &mut Stdout) -> anyhow::Result<ExitCode> {
    check_out_is_not_a_shard(&args)?;
    let mut shards = args
        .shards
        .iter()
        .map(|dir| load(dir))
        .collect::<anyhow::Result<Vec<_>>>()?;
    shards.sort_by_key(|s| s.record().index);
    check_one_sweep(&shards)?;
    let reference = &shards[0];
    let record = reference.record();
    let params = reference.manifest.overrides.len();

    // Checked before anything is sized by it: a damaged manifest must not make us
    // allocate for a count it made up.
    let listed: usize = shards.iter().map(|s| s.record().runs.len()).sum();
    if listed != record.planned_runs {
        bail!(
            "the shards' manifests list {listed} run(s) in all, but the sweep planned {}",
            record.planned_runs
        );
    }
    // Every run of the plan, from the shard it belongs to.
    let mut plan: Vec<Option<(&ShardOut, &ShardRun)>> = vec![None; record.planned_runs];
    for shard in &shards {
        let me = shard.record();
        for run in &me.runs {
            let owner = crate::shard::Shard {
                index: me.index,
                count: me.count,
            };
            if run.index >= plan.len() || !owner.owns(run.index) {
                bail!(
                    "{}: its manifest lists run {} of the plan, which is not shard {owner}'s",
                    shard.dir.display(),
                    run.index
                );
            }
            if plan[run.index].replace((shard, run)).is_some() {
                bail!(
                    "{}: its manifest lists run {} twice",
                    shard.dir.display(),
                    run.index
                );
            }
        }
    }
    if let Some(missing) = plan.iter().position(Option::is_none) {
        bail!(
            "run {missing} of the plan is in no shard's manifest (shard {}/{} should have it)",
            missing % record.count + 1,
            record.count
        );
    }
    let plan: Vec<(&ShardOut, &ShardRun)> = plan.into_iter().flatten().collect();

    // The rows of summary.csv, in plan order: each shard's rows are its finished runs,
    // in its plan order.
    let mut next_row: HashMap<usize, usize> = HashMap::new();
    let mut rows: Vec<Row<'_>> = Vec::new();
    for &(shard, run) in &plan {
        if run.status == RunStatus::Failed {
            continue;
        }
        let n = next_row.entry(shard.record().index).or_default();
        let record = shard.records.get(*n).with_context(|| {
            format!(
                "{}: summary.csv has fewer rows than the manifest's finished runs",
                shard.dir.display()
            )
        })?;
        *n += 1;
        let columns = match run.status {
            RunStatus::Ok => run_columns(&shard.dir.join(&run.dir), params)?,
            // No folder to ask: the shard's columns are the best there is.
            _ => figure_columns(&shard.header, params, !shard.records.is_empty()).to_vec(),
        };
        // Folder names are sanitized, so only the seed can be checked against the row.
        if !run.dir.ends_with(&format!("/seed-{}", record[2])) {
            bail!(
                "{}: summary.csv's row for {} / {} / seed {} is not where the manifest puts run {} ({})",
                shard.dir.display(),
                record[0],
                record[1],
                record[2],
                run.index,
                run.dir
            );
        }
        rows.push(Row {
            shard,
            run,
            record,
            columns,
        });
    }
    for shard in &shards {
        let used = next_row.get(&shard.record().index).copied().unwrap_or(0);
        if used != shard.records.len() {
            bail!(
                "{}: summary.csv has {} rows but the manifest lists {used} finished runs",
                shard.dir.display(),
                shard.records.len()
            );
        }
    }

    // The figure columns as `run` orders them: each run's, in the order first met.
    let mut names: Vec<String> = Vec::new();
    for row in &rows {
        for c in &row.columns {
            if !names.contains(c) {
                names.push(c.clone());
            }
        }
    }
    let records: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let shard_columns =
                figure_columns(&row.shard.header, params, !row.shard.records.is_empty());
            let mut record: Vec<String> = row.record[..KEY_COLUMNS.len()].to_vec();
            record.extend(names.iter().map(|name| {
                shard_columns
                    .iter()
                    .position(|c| c == name)
                    .map(|i| row.record[KEY_COLUMNS.len() + i].clone())
                    .unwrap_or_default()
            }));
            record.extend_from_slice(&row.record[row.record.len() - params..]);
            record
        })
        .collect();
    // Like `run`, the parameter columns come from the first row: none without rows.
    let param_names: Vec<&str> = if rows.is_empty() {
        Vec::new()
    } else {
        reference
            .manifest
            .overrides
            .iter()
            .map(|o| o.path.as_str())
            .collect()
    };

    fs::create_dir_all(&args.out)
        .with_context(|| format!("creating the output directory {}", args.out.display()))?;
    let merged = Manifest {
        schedlab_version: reference.manifest.schedlab_version.clone(),
        git_commit: reference.manifest.git_commit.clone(),
        arguments: record.sweep_arguments.clone(),
        files: reference.manifest.files.clone(),
        seeds: reference.manifest.seeds.clone(),
        overrides: reference.manifest.overrides.clone(),
        shard: None,
        merged_from: Some(shards.iter().map(|s| s.dir.display().to_string()).collect()),
    };
    output::write_atomically(&args.out.join("manifest.json"), |temp| {
        crate::manifest::write(temp, &merged)
    })?;
    for &(shard, run) in &plan {
        if run.status == RunStatus::Ok {
            place_run(
                &shard.dir.join(&run.dir),
                &args.out.join(&run.dir),
                args.move_runs,
            )?;
        }
    }

    let mut namespace_rows: Vec<Vec<String>> = Vec::new();
    for row in rows.iter().filter(|r| r.run.status == RunStatus::Ok) {
        let path = args.out.join(&row.run.dir).join("namespaces.csv");
        let (_, records) = read_csv(&path)?;
        for n in records {
            let mut r = row.record[..KEY_COLUMNS.len()].to_vec();
            r.extend(n);
            namespace_rows.push(r);
        }
    }
    let header: Vec<&str> = KEY_COLUMNS.into_iter().chain(NAMESPACE_COLUMNS).collect();
    output::write_atomically(&args.out.join("namespaces.csv"), |temp| {
        output::write_csv(temp, &header, namespace_rows.into_iter())
    })?;

    let baseline = baseline(&record.sweep_arguments)?;
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    output::write_atomically(&args.out.join("stats.csv"), |temp| {
        super::run::write_stats_records(
            temp,
            &param_names,
            &name_refs,
            &records,
            baseline.as_deref(),
        )
    })?;
    let header: Vec<&str> = KEY_COLUMNS
        .into_iter()
        .chain(name_refs.iter().copied())
        .chain(param_names.iter().copied())
        .collect();
    let summary = args.out.join("summary.csv");
    output::write_atomically(&summary, |temp| {
        output::write_csv(temp, &header, records.iter().cloned())
    })?;

    let failed: Vec<String> = plan
        .iter()
        .filter(|(_, run)| run.status != RunStatus::Ok)
        .map(|(shard, run)| {
            format!(
                "{} ({} in shard {}/{})",
                run.dir,
                match run.status {
                    RunStatus::Failed => "failed",
                    _ => "its folder was not written",
                },
                shard.record().index,
                shard.record().count
            )
        })
        .collect();
    for run in &failed {
        log(format_args!("warning: run {run}"));
    }
    out.line(format_args!(
        "merged {} shard(s): {} run(s), {} with results, into {}",
        shards.len(),
        plan.len(),
        rows.len(),
        args.out.display()
    ))?;
    out.line(format_args!("summary: {}", summary.display()))?;
    // The merged sweep's charts and page, as `run` draws them for an unsharded sweep.
    let report = crate::report::build(&args.out);
    match &report {
        Ok(built) => out.line(format_args!("report: {}", built.index.display()))?,
        Err(error) => log(format_args!("error: the report: {error:#}")),
    }
    Ok(if failed.is_empty() && report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The figure columns of a summary.csv header: between the key and the `params`
/// parameter columns (present only when the file has rows).
fn figure_columns(header: &[String], params: usize, has_rows: bool) -> &[String] {
    let end = header.len() - if has_rows { params } else { 0 };
    &header[KEY_COLUMNS.len().min(end)..end]
}

/// The figure columns of one run, from its folder's summary.csv.
fn run_columns(dir: &Path, params: usize) -> anyhow::Result<Vec<String>> {
    let path = dir.join("summary.csv");
    let (header, records) = read_csv(&path)?;
    if header.len() < KEY_COLUMNS.len() + params || records.len() != 1 {
        bail!(
            "{}: not a run's summary.csv (a header and one row)",
            path.display()
        );
    }
    Ok(figure_columns(&header, params, !records.is_empty()).to_vec())
}

/// A CSV file's header and records; errors name the file and the line.
fn read_csv(path: &Path) -> anyhow::Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("reading {}", path.display()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            anyhow::anyhow!("{}:{line}: {e}", path.display())
        })?;
        records.push(record.iter().map(str::to_string).collect());
    }
    Ok((header, records))
}

/// Reads one shard's manifest and summary.csv, refusing a directory that is not a
/// finished shard.
fn load(dir: &Path) -> anyhow::Result<ShardOut> {
    let path = dir.join("manifest.json");
    if !path.is_file() {
        return Err(UsageError(format!(
            "{}: no manifest.json: not the output of `schedlab run --shard K/N`",
            dir.display()
        ))
        .into());
    }
    let manifest = crate::manifest::read(&path)?;
    let Some(record) = &manifest.shard else {
        return Err(UsageError(format!(
            "{}: not a shard (no `shard` record): the output of a whole sweep needs no merge",
            path.display()
        ))
        .into());
    };
    if !record.complete {
        bail!(
            "{}: shard {}/{} is not complete (still running, interrupted, or killed); rerun it",
            dir.display(),
            record.index,
            record.count
        );
    }
    let summary = dir.join("summary.csv");
    let (header, records) = read_csv(&summary)?;
    let params = if records.is_empty() {
        0
    } else {
        manifest.overrides.len()
    };
    if header.len() < KEY_COLUMNS.len() + params || header[..KEY_COLUMNS.len()] != KEY_COLUMNS {
        bail!(
            "{}: not a sweep's summary.csv: its header does not start with {} and end with the {params} --set column(s) of its manifest",
            summary.display(),
            KEY_COLUMNS.join(",")
        );
    }
    Ok(ShardOut {
        dir: dir.to_path_buf(),
        manifest,
        header,
        records,
    })
}

/// Refuses shards of different sweeps (naming the first thing that differs), a shard
/// given twice, and missing shards. `shards` is sorted by shard index and not empty.
fn check_one_sweep(shards: &[ShardOut]) -> anyhow::Result<()> {
    let first = &shards[0];
    let (a, ra) = (&first.manifest, first.record());
    for other in &shards[1..] {
        let (b, rb) = (&other.manifest, other.record());
        let differs = |what: String| -> anyhow::Error {
            UsageError(format!(
                "{} and {} are shards of different sweeps: {what}",
                first.dir.display(),
                other.dir.display()
            ))
            .into()
        };
        if a.schedlab_version != b.schedlab_version || a.git_commit != b.git_commit {
            return Err(differs(
                "they were run by different builds of schedlab".into(),
            ));
        }
        if ra.sweep_arguments != rb.sweep_arguments {
            return Err(differs(format!(
                "their arguments differ ({} vs {})",
                ra.sweep_arguments.join(" "),
                rb.sweep_arguments.join(" ")
            )));
        }
        if a.files != b.files {
            let file = a
                .files
                .iter()
                .zip(&b.files)
                .find(|(x, y)| x != y)
                .map_or("the list of files read".to_string(), |(x, _)| {
                    x.path.clone()
                });
            return Err(differs(format!("{file} differs (its SHA-256 or path)")));
        }
        if a.seeds != b.seeds || a.overrides != b.overrides {
            return Err(differs("their seeds or --set overrides differ".into()));
        }
        if ra.count != rb.count || ra.planned_runs != rb.planned_runs {
            return Err(differs(format!(
                "one is split {} ways over {} runs, the other {} ways over {} runs",
                ra.count, ra.planned_runs, rb.count, rb.planned_runs
            )));
        }
    }
    for pair in shards.windows(2) {
        if pair[0].record().index == pair[1].record().index {
            return Err(UsageError(format!(
                "{} and {} are both shard {}/{}",
                pair[0].dir.display(),
                pair[1].dir.display(),
                pair[0].record().index,
                ra.count
            ))
            .into());
        }
    }
    let missing: Vec<String> = (1..=ra.count)
        .filter(|k| !shards.iter().any(|s| s.record().index == *k))
        .map(|k| format!("{k}/{}", ra.count))
        .collect();
    if !missing.is_empty() {
        return Err(UsageError(format!(
            "missing shard(s) {} of the sweep; give every shard's directory",
            missing.join(", ")
        ))
        .into());
    }
    Ok(())
}

/// The sweep's `--baseline`, from its arguments.
fn baseline(arguments: &[String]) -> anyhow::Result<Option<String>> {
    let argv = ["schedlab", "run"]
        .into_iter()
        .map(String::from)
        .chain(arguments.iter().cloned());
    match <crate::cli::Cli as clap::Parser>::try_parse_from(argv) {
        Ok(crate::cli::Cli {
            command: crate::cli::Command::Run(run),
        }) => Ok(run.baseline),
        Ok(_) => bail!("the shards' manifests do not hold `run` arguments"),
        Err(e) => bail!("the shards' stored arguments do not parse: {e}"),
    }
}

/// Refuses an --out that is one of the shard directories (merging would overwrite a
/// shard's own files).
fn check_out_is_not_a_shard(args: &MergeArgs) -> anyhow::Result<()> {
    let Ok(out) = fs::canonicalize(&args.out) else {
        return Ok(());
    };
    for dir in &args.shards {
        if fs::canonicalize(dir).is_ok_and(|d| d == out) {
            return Err(UsageError(format!(
                "--out {} is one of the shards; merge into a new directory",
                args.out.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// Puts a run's folder at `to`, replacing any folder there, by copying or moving it.
fn place_run(from: &Path, to: &Path, move_it: bool) -> anyhow::Result<()> {
    let context = || format!("placing {} at {}", from.display(), to.display());
    if fs::symlink_metadata(to).is_ok() {
        fs::remove_dir_all(to).with_context(context)?;
    }
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).with_context(context)?;
    }
    // A rename fails across file systems; a copy then does the job.
    if move_it && fs::rename(from, to).is_ok() {
        return Ok(());
    }
    copy_dir(from, to).with_context(context)?;
    if move_it {
        fs::remove_dir_all(from).with_context(context)?;
    }
    Ok(())
}

/// Copies a folder of files and folders.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
