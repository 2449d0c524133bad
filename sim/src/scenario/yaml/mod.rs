//! The YAML scenario format: reading a file into a validated [`Scenario`], and errors that
//! say where, in which field, and what was expected.
//!
//! Loading runs in two stages. serde-saphyr reads the text into the `raw` structs, which
//! mirror the file and check only its shape (known keys, mappings versus lists versus single
//! values). `build` then interprets every value — quantities, durations, distributions,
//! names — and checks the rules that span fields, using the spans kept in the raw structs to
//! point at the offending value; `names` holds Kubernetes' syntax for label keys, label
//! values and object names, which it checks as the API server does. A serde error is turned
//! into a [`ScenarioError`] by `locate`, which recovers the field path from the error's
//! position.
//!
//! The format itself is documented for users in `docs/scenario-format.md`.

mod build;
mod locate;
mod names;
mod raw;

use std::fmt;
use std::path::Path;

use schedulers::suggest::closest;
use serde_saphyr::{Location, NonFiniteFloatPolicy, Options};

use super::Scenario;

/// A scenario file was rejected: where, which field, and what was expected.
///
/// Displays as `scenarios/x.yaml:12:7: cluster.nodePools[0].count: expected a non-negative
/// integer, got -1`, leaving out the parts that are unknown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", Rendered(self))]
pub struct ScenarioError {
    /// The file, as given to the loader.
    pub path: String,
    /// 1-based line of the offending text, when known.
    pub line: Option<u64>,
    /// 1-based column (in characters) of the offending text, when known.
    pub column: Option<u64>,
    /// The dotted path of the field, spelt as in the file (`workloads[2].requests.cpu`).
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Formats a [`ScenarioError`]; a separate type because thiserror's attribute takes a
/// format string, and the parts to show depend on what is known.
struct Rendered<'a>(&'a ScenarioError);

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        let mut prefix = e.path.clone();
        if let Some(line) = e.line {
            prefix.push_str(&format!(":{line}"));
            if let Some(column) = e.column {
                prefix.push_str(&format!(":{column}"));
            }
        }
        let prefix = prefix.trim_start_matches(':');
        if !prefix.is_empty() {
            write!(f, "{prefix}: ")?;
        }
        if let Some(field) = &e.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&e.message)
    }
}

/// Reads and validates a scenario file; `is_known_scheduler` says whether a scheduler name
/// exists.
pub fn load_scenario(
    path: &Path,
    is_known_scheduler: &dyn Fn(&str) -> bool,
) -> Result<Scenario, ScenarioError> {
    let shown_path = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        path: shown_path.clone(),
        line: None,
        column: None,
        field: None,
        message: format!("cannot read the scenario file: {e}"),
    })?;
    let mut scenario = parse_scenario(&text, &shown_path, is_known_scheduler)?;
    scenario.path = Some(path.to_path_buf());
    Ok(scenario)
}

/// Parses scenario text; `path` is only used in messages and for `Scenario::path`, and for
/// the default name (file stem).
pub fn parse_scenario(
    text: &str,
    path: &str,
    is_known_scheduler: &dyn Fn(&str) -> bool,
) -> Result<Scenario, ScenarioError> {
    let raw = match serde_saphyr::from_str_with_options::<Option<raw::RawScenario>>(
        text,
        parse_options(),
    ) {
        Ok(Some(raw)) => raw,
        // No document at all: only whitespace and comments.
        Ok(None) => {
            return Err(ScenarioError {
                path: path.to_owned(),
                line: None,
                column: None,
                field: None,
                message: "the scenario file is empty; expected a mapping of settings such as `cluster` and `workloads`"
                    .to_owned(),
            });
        }
        Err(e) => return Err(locate::translate(&e, text, path)),
    };
    build::build(raw, text, path, is_known_scheduler)
}

/// How scenario text is parsed.
fn parse_options() -> Options {
    let mut options = Options::default();
    // Our messages carry the position; the snippet is for terminals, and the CLI may render
    // its own.
    options.with_snippet = false;
    // `.inf` where a distribution or quantity may stand reaches our parsers as text, which
    // reject it with a message naming the field, rather than failing inside serde.
    options.non_finite_float_policy = NonFiniteFloatPolicy::AsString;
    options
}

/// The line and column of a serde-saphyr location, `None` when unknown (line 0).
fn line_column(loc: &Location) -> (Option<u64>, Option<u64>) {
    if loc.line() == 0 {
        (None, None)
    } else {
        (Some(loc.line()), (loc.column() > 0).then_some(loc.column()))
    }
}

/// A value from the file as it appears in a message: verbatim when plain, quoted and escaped
/// when empty, padded or holding control characters, and shortened when long.
fn shown(s: &str) -> String {
    const MAX_CHARS: usize = 60;
    let plain = !s.is_empty() && s.trim() == s && !s.chars().any(char::is_control);
    let mut out = if plain {
        s.to_owned()
    } else {
        format!("{s:?}")
    };
    if out.chars().count() > MAX_CHARS {
        out = out.chars().take(MAX_CHARS).collect::<String>() + "…";
    }
    out
}

/// Appends a mapping key to a field path: `.key` when it is a plain word, `["key"]` when it
/// holds dots or slashes (label keys, extended resources), so the path stays unambiguous.
fn join_key(base: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (base.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{base}.{key}"),
        (_, false) => format!("{base}[{key:?}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(line: Option<u64>, column: Option<u64>, field: Option<&str>) -> ScenarioError {
        ScenarioError {
            path: "scenarios/x.yaml".into(),
            line,
            column,
            field: field.map(str::to_owned),
            message: "expected a non-negative integer, got -1".into(),
        }
    }

    #[test]
    fn display_leaves_out_unknown_parts() {
        let full = error(Some(12), Some(7), Some("cluster.nodePools[0].count"));
        assert_eq!(
            full.to_string(),
            "scenarios/x.yaml:12:7: cluster.nodePools[0].count: expected a non-negative integer, got -1"
        );
        assert_eq!(
            error(Some(12), None, None).to_string(),
            "scenarios/x.yaml:12: expected a non-negative integer, got -1"
        );
        assert_eq!(
            error(None, None, None).to_string(),
            "scenarios/x.yaml: expected a non-negative integer, got -1"
        );
        let nameless = ScenarioError {
            path: String::new(),
            ..full
        };
        assert_eq!(
            nameless.to_string(),
            "12:7: cluster.nodePools[0].count: expected a non-negative integer, got -1"
        );
    }
}
