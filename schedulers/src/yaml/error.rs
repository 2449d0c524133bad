//! [`YamlError`]: a file was rejected, with where and why.

use std::fmt;

use super::{Location, line_column};

/// A file was rejected: where, which field, and what was expected.
///
/// Displays as `scenarios/x.yaml:12:7: cluster.nodePools[0].count: expected a non-negative
/// integer, got -1`, leaving out the parts that are unknown. The scenario loader's
/// `ScenarioError` and the configuration reader's `SchedulerConfigError` are this type;
/// so are errors in the CSV files a scenario names, where the field is a column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Rendered(self))]
pub struct YamlError {
    /// The file, as given to the reader.
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

impl YamlError {
    /// An error about `field` (none when empty) at `at` in the file `path`.
    pub fn at(path: &str, at: &Location, field: &str, message: impl Into<String>) -> YamlError {
        let (line, column) = line_column(at);
        YamlError {
            path: path.to_owned(),
            line,
            column,
            field: (!field.is_empty()).then(|| field.to_owned()),
            message: message.into(),
        }
    }

    /// An error about the file as a whole: unreadable, empty.
    pub fn file(path: &str, message: impl Into<String>) -> YamlError {
        YamlError {
            path: path.to_owned(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }
}

/// Formats a [`YamlError`]; a separate type because thiserror's attribute takes a format
/// string, and the parts to show depend on what is known.
struct Rendered<'a>(&'a YamlError);

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

#[cfg(test)]
mod tests {
    use super::*;

    fn error(line: Option<u64>, column: Option<u64>, field: Option<&str>) -> YamlError {
        YamlError {
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
        let nameless = YamlError {
            path: String::new(),
            ..full
        };
        assert_eq!(
            nameless.to_string(),
            "12:7: cluster.nodePools[0].count: expected a non-negative integer, got -1"
        );
    }
}
