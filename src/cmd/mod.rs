//! The subcommands, one module each, and what they share: console output that survives a
//! closed pipe, error logging, the usage-error type behind exit code 2, and the expansion
//! of directories into scenario files.

pub mod agent;
pub mod bounds;
pub mod control_plane;
pub mod explain;
pub mod export;
pub mod merge;
pub mod plan;
pub mod report;
pub mod run;
pub mod schedulers;
pub mod token;
pub mod validate;
pub mod view;

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ::schedulers::{Registry, SchedulerSpec, SpecError};
use anyhow::Context;

/// The scheduler used when neither the command line nor the scenario names one.
pub const DEFAULT_SCHEDULER: &str = "first-fit";

/// The scheduler a one-scheduler command uses, with its label: `given` (`--scheduler`,
/// which may name one of the scenario's own profiles), else the scenario's first, else
/// [`DEFAULT_SCHEDULER`].
pub fn pick_scheduler(
    given: Option<&str>,
    registry: &Registry,
    scenario: &sim::Scenario,
) -> anyhow::Result<(SchedulerSpec, String)> {
    Ok(match given {
        Some(text) => {
            let spec = SchedulerSpec::parse(text)?;
            let label = registry.check(&spec, &scenario.profiles)?;
            (spec, label)
        }
        None => match scenario.schedulers.first() {
            Some(s) => (s.spec.clone(), s.label.clone()),
            None => (
                SchedulerSpec::named(DEFAULT_SCHEDULER),
                DEFAULT_SCHEDULER.to_string(),
            ),
        },
    })
}

/// A mistake in how the command was invoked (as opposed to a failure while doing the work):
/// reported before anything runs, with exit code 2 like clap's own usage errors.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Standard output for results. A closed pipe (`schedlab ... | head`) means the reader has
/// seen enough, not that anything failed: after the first broken-pipe error every further
/// line is dropped silently and the command carries on to its normal exit code.
pub struct Stdout {
    inner: io::StdoutLock<'static>,
    closed: bool,
}

impl Stdout {
    /// Locks standard output for the rest of the process.
    pub fn lock() -> Stdout {
        Stdout {
            inner: io::stdout().lock(),
            closed: false,
        }
    }

    /// Writes one line.
    pub fn line(&mut self, text: impl fmt::Display) -> anyhow::Result<()> {
        let result = writeln!(self.inner, "{text}");
        self.check(result)
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> anyhow::Result<()> {
        let result = self.inner.flush();
        self.check(result)
    }

    fn check(&mut self, result: io::Result<()>) -> anyhow::Result<()> {
        if self.closed {
            return Ok(());
        }
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(e).context("writing to standard output"),
        }
    }
}

/// Writes one line to stderr. Errors are ignored on purpose: stderr is where errors would
/// be reported, so there is nowhere left to report a failure to write there, and `eprintln!`
/// would panic instead.
pub fn log(text: impl fmt::Display) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// Loads a kube-scheduler configuration (`--scheduler-config`) and registers each of its
/// profiles under its `schedulerName`, printing what it ignores on stderr. A name taken by
/// a built-in scheduler is refused rather than shadowed, so that `kube-default` always
/// means schedlab's own profile.
pub fn register_scheduler_config(path: &Path, registry: &mut Registry) -> anyhow::Result<()> {
    const SUMMARY: &str = "a profile of the --scheduler-config file";
    let config = ::schedulers::framework::config::load_scheduler_config(path)?;
    for warning in config.warnings() {
        log(format_args!("warning: {warning}"));
    }
    config.refuse_taken_names(&|name| registry.contains(name))?;
    for (name, profile) in config.into_profiles() {
        registry.register_profile(&name, SUMMARY, profile)?;
    }
    Ok(())
}

/// Parses and checks the `--scheduler` specs of the command line (names registered or
/// `exec:PATH`, arguments valid): each with its run label, repeats of a label dropped
/// with a note on stderr. Any error is a usage error, found before anything runs.
pub fn cli_schedulers(
    texts: &[String],
    registry: &Registry,
) -> Result<Vec<(SchedulerSpec, String)>, SpecError> {
    let mut out: Vec<(SchedulerSpec, String)> = Vec::new();
    let mut texts_of_label: Vec<&str> = Vec::new();
    for text in texts {
        let spec = SchedulerSpec::parse(text)?;
        let label = registry.check(&spec, &[])?;
        match out.iter().position(|(_, l)| *l == label) {
            None => {
                out.push((spec, label));
                texts_of_label.push(text);
            }
            // Said once per repeat: each is a separate thing the user typed.
            Some(i) if texts_of_label[i] == text.as_str() => {
                log(format_args!("note: ignoring duplicate --scheduler {text}"));
            }
            Some(i) => log(format_args!(
                "note: ignoring duplicate --scheduler {text}: the same run as --scheduler {} ({label})",
                texts_of_label[i]
            )),
        }
    }
    Ok(out)
}

/// Prints the warnings of a scenario's own `schedulerConfig` on stderr, as
/// [`register_scheduler_config`] does for `--scheduler-config`, the rows its trace files
/// skipped, and the warnings of its `manifests:` with the one line naming the kinds it
/// ignored.
pub fn log_profile_warnings(scenario: &sim::Scenario) {
    for warning in scenario
        .profile_warnings
        .iter()
        .chain(&scenario.trace_warnings)
        .chain(&scenario.manifest_warnings)
    {
        log(format_args!("warning: {warning}"));
    }
    if let Some(line) = &scenario.manifests_ignored {
        log(format_args!("{line}"));
    }
    if let Some(line) = &scenario.manifests_now {
        log(format_args!("{line}"));
    }
}

/// The scenario files named by `paths`: files as given, directories expanded to their
/// `*.yaml` and `*.yml` files, extension in any case, sorted by path (not recursive).
/// Order follows the command line; a file named twice is kept once, at its first position,
/// with a note on stderr, as is every `*.yaml` entry of a directory that is skipped (a
/// dangling link, a folder). Also returns one error per directory that cannot be read or
/// holds no scenario file.
///
/// A path that is not a directory is passed through even if it does not exist, so the
/// loader reports it with its usual `path: ...` error.
pub fn expand_inputs(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<anyhow::Error>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        let found = if path.is_dir() {
            match scenario_files_in(path) {
                Ok((found, skipped)) => {
                    for note in skipped {
                        log(format_args!("note: {note}"));
                    }
                    found
                }
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            }
        } else {
            vec![path.clone()]
        };
        if found.is_empty() {
            errors.push(anyhow::anyhow!(
                "{}: no *.yaml or *.yml files in this directory",
                path.display()
            ));
            continue;
        }
        for file in found {
            if seen.insert(file.clone()) {
                files.push(file);
            } else {
                log(format_args!(
                    "note: ignoring duplicate scenario file {}",
                    file.display()
                ));
            }
        }
    }
    (files, errors)
}

/// `*.yaml` and `*.yml` files directly in `dir` (the extension in any case: `B.YML` is a
/// scenario as surely as `b.yml`), sorted by path so the order (and so the row order of
/// summary.csv) does not depend on the file system's listing order. Also returns a note
/// for each entry with such a name that is not a file: a dangling symbolic link or a folder.
fn scenario_files_in(dir: &Path) -> anyhow::Result<(Vec<PathBuf>, Vec<String>)> {
    let context = || format!("{}: cannot list directory", dir.display());
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for entry in fs::read_dir(dir).with_context(context)? {
        let path = entry.with_context(context)?.path();
        let is_yaml = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml"));
        if !is_yaml {
            continue;
        }
        // is_file follows symlinks, so a linked scenario counts and a linked directory does not.
        if path.is_file() {
            files.push(path);
            continue;
        }
        let what = if path.is_dir() {
            "a directory (scenario directories are not searched recursively)"
        } else if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            "a dangling symbolic link"
        } else {
            "not a regular file"
        };
        skipped.push((path, what));
    }
    files.sort();
    skipped.sort();
    let notes = skipped
        .into_iter()
        .map(|(path, what)| format!("skipping {}: {what}", path.display()))
        .collect();
    Ok((files, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_expand_sorted_and_files_dedupe() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.yaml", "a.yml", "c.txt", "d.yaml"] {
            fs::write(dir.path().join(name), "").unwrap();
        }
        fs::create_dir(dir.path().join("sub.yaml")).unwrap();
        let d = dir.path().join("d.yaml");
        let (files, errors) = expand_inputs(&[d.clone(), dir.path().to_path_buf()]);
        assert!(errors.is_empty());
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["d.yaml", "a.yml", "b.yaml"]);
    }

    #[cfg(unix)]
    #[test]
    fn any_case_of_the_extension_counts_and_skipped_entries_are_named() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["B.YAML", "c.Yml", "a.yaml"] {
            fs::write(dir.path().join(name), "").unwrap();
        }
        fs::create_dir(dir.path().join("sub.yml")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("x.yaml")).unwrap();
        let (files, notes) = scenario_files_in(dir.path()).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["B.YAML", "a.yaml", "c.Yml"]);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("sub.yml: a directory"), "{notes:?}");
        assert!(
            notes[1].contains("x.yaml: a dangling symbolic link"),
            "{notes:?}"
        );
    }

    #[test]
    fn empty_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (files, errors) = expand_inputs(&[dir.path().to_path_buf()]);
        assert!(files.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("no *.yaml"));
    }
}
