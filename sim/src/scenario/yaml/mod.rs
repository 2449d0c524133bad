//! The YAML scenario format: reading a file into a validated [`Scenario`], and errors that
//! say where, in which field, and what was expected.
//!
//! Loading runs in two stages. serde-saphyr reads the text into the `raw` structs, which
//! mirror the file and check only its shape (known keys, mappings versus lists versus single
//! values). `build` then interprets every value — quantities, durations, distributions,
//! names — and checks the rules that span fields, using the spans kept in the raw structs to
//! point at the offending value. The Kubernetes pieces of a scenario (selectors, affinity,
//! tolerations, taints, ports, quantities) are read by `schedulers::yaml`, the front end
//! every Kubernetes-YAML reader shares, and a serde error is located by its
//! [`schedulers::yaml::translate`].
//!
//! The format itself is documented for users in `docs/scenario-format.md`.

mod build;
mod raw;

use std::path::{Path, PathBuf};

use schedulers::yaml::{Schema, YamlError, parse_options, translate};

use super::{Scenario, SchedulerCheck};

/// A scenario file (or a file it names) was rejected: where, which field, and what was
/// expected.
///
/// Displays as `scenarios/x.yaml:12:7: cluster.nodePools[0].count: expected a non-negative
/// integer, got -1`, leaving out the parts that are unknown.
pub type ScenarioError = YamlError;

/// What a scenario is, for the locator's messages.
struct ScenarioSchema;

impl Schema for ScenarioSchema {
    fn document(&self) -> &str {
        "a scenario"
    }
}

/// How a scenario is loaded beyond its own text: what the command line adds to it.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Kubernetes manifest files or directories (as given) added to the scenario's own
    /// `manifests:` (`--manifests`).
    pub manifests: Vec<PathBuf>,
    /// Every trace is read as if it said `strict: true`: the first row that cannot be read
    /// is an error instead of being skipped and counted (`--strict`).
    pub strict: bool,
}

/// Reads and validates a scenario file; `check` checks each entry of `schedulers:`.
pub fn load_scenario(path: &Path, check: &SchedulerCheck<'_>) -> Result<Scenario, ScenarioError> {
    load_scenario_with(path, check, &LoadOptions::default())
}

/// [`load_scenario`] with what the command line adds (`options`).
pub fn load_scenario_with(
    path: &Path,
    check: &SchedulerCheck<'_>,
    options: &LoadOptions,
) -> Result<Scenario, ScenarioError> {
    let shown_path = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ScenarioError::file(&shown_path, format!("cannot read the scenario file: {e}"))
    })?;
    let mut scenario = parse_with(&text, &shown_path, check, options)?;
    scenario.path = Some(path.to_path_buf());
    Ok(scenario)
}

/// Parses scenario text; `path` is only used in messages and for `Scenario::path`, and for
/// the default name (file stem).
pub fn parse_scenario(
    text: &str,
    path: &str,
    check: &SchedulerCheck<'_>,
) -> Result<Scenario, ScenarioError> {
    parse_with(text, path, check, &LoadOptions::default())
}

/// [`parse_scenario`] with what the command line adds (`options`).
pub fn parse_with(
    text: &str,
    path: &str,
    check: &SchedulerCheck<'_>,
    options: &LoadOptions,
) -> Result<Scenario, ScenarioError> {
    let raw = match serde_saphyr::from_str_with_options::<Option<raw::RawScenario>>(
        text,
        parse_options(),
    ) {
        Ok(Some(raw)) => raw,
        // No document at all: only whitespace and comments.
        Ok(None) => {
            return Err(ScenarioError::file(
                path,
                "the scenario file is empty; expected a mapping of settings such as `cluster` and `workloads`",
            ));
        }
        Err(e) => return Err(translate(&e, text, path, &ScenarioSchema)),
    };
    build::build(raw, text, path, check, options)
}
