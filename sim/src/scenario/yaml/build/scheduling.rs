//! `schedulerConfig:` (a KubeSchedulerConfiguration, in a file or inline) and
//! `schedulers:`, the algorithms a scenario runs with.

use std::path::Path;

use schedulers::field_path;
use schedulers::framework::config::{load_scheduler_config, parse_scheduler_config};
use schedulers::framework::plugin_registry::ResolvedProfile;
use schedulers::yaml::line_column;
use serde_saphyr::{Location, Spanned};

use super::super::raw::RawSchedulerConfig;
use super::{Builder, Result, ScenarioError};

/// The profiles of a `schedulerConfig` by scheduler name (`Scenario::profiles`).
pub(super) type Profiles = Vec<(String, ResolvedProfile)>;

/// The text of an inline `schedulerConfig` mapping that starts at `at`, with everything
/// else blanked (earlier lines emptied, the rest of the starting line before `at` turned to
/// spaces), so that positions in it are positions in the scenario. The mapping ends before
/// the next line that starts a top-level key (any line not starting with a space, a tab or
/// `#`).
fn inline_text(text: &str, at: &Location) -> Option<String> {
    let (Some(line), Some(column)) = line_column(at) else {
        return None;
    };
    let line = usize::try_from(line).ok()?;
    let column = usize::try_from(column).ok()?;
    let mut out = String::new();
    for (i, l) in text.lines().enumerate() {
        let number = i + 1;
        if number < line {
            out.push('\n');
        } else if number == line {
            let skip = column.checked_sub(1)?;
            if skip > l.chars().count() {
                return None;
            }
            out.extend(std::iter::repeat_n(' ', skip));
            out.extend(l.chars().skip(skip));
            out.push('\n');
        } else if l.starts_with([' ', '\t', '#']) || l.is_empty() {
            out.push_str(l);
            out.push('\n');
        } else {
            break;
        }
    }
    Some(out)
}

impl Builder<'_> {
    /// `schedulerConfig:`: a KubeSchedulerConfiguration file, relative to the scenario's
    /// directory, or one inline, read into its profiles and warnings. Errors inside a file
    /// point into it, errors inline into the scenario; a profile named like a scheduler that
    /// already exists is refused.
    pub(super) fn scheduler_config(
        &self,
        config: &Spanned<RawSchedulerConfig>,
        text: &str,
        is_known: &dyn Fn(&str) -> bool,
    ) -> Result<(Profiles, Vec<String>)> {
        const FIELD: &str = "schedulerConfig";
        let at = &config.referenced;
        let loaded = match &config.value {
            RawSchedulerConfig::Path(path) => {
                if path.trim().is_empty() {
                    return Err(self.kube.err(
                        at,
                        FIELD,
                        "expected the path of a KubeSchedulerConfiguration file, got an empty string",
                    ));
                }
                let dir = Path::new(self.kube.file())
                    .parent()
                    .unwrap_or(Path::new(""));
                let full = dir.join(path);
                if !full.is_file() {
                    return Err(self.kube.err(
                        at,
                        FIELD,
                        format!(
                            "no scheduler configuration at {} (the path is relative to the scenario's directory)",
                            full.display()
                        ),
                    ));
                }
                load_scheduler_config(&full)
            }
            RawSchedulerConfig::Inline => {
                let Some(inline) = inline_text(text, at) else {
                    return Err(self.kube.err(
                        at,
                        FIELD,
                        "cannot find the inline configuration in the text (write it as a block \
                         mapping under a top-level `schedulerConfig:`)",
                    ));
                };
                // Positions in the blanked text are positions in the scenario; only the
                // field needs the prefix.
                parse_scheduler_config(&inline, self.kube.file()).map_err(|e| ScenarioError {
                    field: Some(field_path::join(
                        FIELD,
                        e.field.as_deref().unwrap_or_default(),
                    )),
                    ..e
                })
            }
        };
        let config = loaded?;
        config.refuse_taken_names(is_known).map_err(|e| {
            let (line, column) = line_column(at);
            ScenarioError {
                message: format!(
                    "{} (the scenario's schedulerConfig is at {}{})",
                    e.message,
                    self.kube.file(),
                    line.map(|l| format!(":{l}:{}", column.unwrap_or(1)))
                        .unwrap_or_default()
                ),
                ..e
            }
        })?;
        let warnings = config.warnings().to_vec();
        Ok((config.into_profiles(), warnings))
    }

    /// `schedulers:`: each must exist, none twice.
    pub(super) fn schedulers(
        &self,
        list: &[Spanned<String>],
        is_known: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for (i, s) in list.iter().enumerate() {
            let field = format!("schedulers[{i}]");
            if !is_known(&s.value) {
                return Err(self.kube.err(
                    &s.referenced,
                    &field,
                    if s.value.starts_with("exec:") {
                        // External programs are started from the command line only, where
                        // their path is checked before anything runs.
                        format!(
                            "unknown scheduler {:?}: external schedulers are named on the command line only (--scheduler {})",
                            s.value, s.value
                        )
                    } else {
                        format!("unknown scheduler {:?}", s.value)
                    },
                ));
            }
            if out.contains(&s.value) {
                return Err(self.kube.err(
                    &s.referenced,
                    &field,
                    format!("scheduler {:?} is listed twice", s.value),
                ));
            }
            out.push(s.value.clone());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::de::IgnoredAny;

    use super::super::testing::{check_at, load};
    use super::*;

    #[test]
    fn inline_text_keeps_positions_and_stops_at_the_next_key() {
        let text = "name: x\nschedulerConfig:\n  kind: K\n  # a comment\n\n  profiles: []\nschedulers: []\n";
        // Where the mapping under `schedulerConfig` starts: its first key.
        let map: BTreeMap<String, Spanned<IgnoredAny>> = serde_saphyr::from_str(text).unwrap();
        let at = map["schedulerConfig"].referenced;
        assert_eq!((at.line(), at.column()), (3, 3));
        assert_eq!(
            inline_text(text, &at).as_deref(),
            Some("\n\n  kind: K\n  # a comment\n\n  profiles: []\n")
        );
    }

    #[test]
    fn schedulers_and_an_inline_configuration_are_read() {
        let s = load(
            "schedulerConfig:
  apiVersion: kubescheduler.config.k8s.io/v1
  kind: KubeSchedulerConfiguration
  profiles: [{schedulerName: packer}]
schedulers: [first-fit, packer]
",
        );
        assert_eq!(s.schedulers, ["first-fit", "packer"]);
        let names: Vec<&str> = s.profiles.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["packer"]);
        assert!(s.profile_warnings.is_empty());
    }

    #[test]
    fn scheduling_errors_are_located() {
        check_at(
            "schedulers: [first-fit, best-fti]\n",
            "best-fti",
            "schedulers[1]",
            "unknown scheduler \"best-fti\"",
        );
        check_at(
            "schedulers: [exec:./mine]\n",
            "exec",
            "schedulers[0]",
            "unknown scheduler \"exec:./mine\": external schedulers are named on the command line only (--scheduler exec:./mine)",
        );
        check_at(
            "schedulers: [random, random]\n",
            "random]",
            "schedulers[1]",
            "scheduler \"random\" is listed twice",
        );
        check_at(
            "schedulerConfig: ''\n",
            "''",
            "schedulerConfig",
            "expected the path of a KubeSchedulerConfiguration file, got an empty string",
        );
        check_at(
            "schedulerConfig: nowhere.yaml\n",
            "nowhere",
            "schedulerConfig",
            "no scheduler configuration at nowhere.yaml (the path is relative to the scenario's directory)",
        );
        check_at(
            "schedulerConfig:\n  apiVersion: kubescheduler.config.k8s.io/v1\n  kind: KubeSchedulerConfiguration\n  percentageOfNodesToScore: 101\n",
            "101",
            "schedulerConfig.percentageOfNodesToScore",
            "invalid value 101: not in valid range [0-100]",
        );
        check_at(
            "schedulerConfig:\n  apiVersion: kubescheduler.config.k8s.io/v1\n  kind: KubeSchedulerConfiguration\n  profiles: [{schedulerName: random}]\n",
            "random",
            "profiles[0].schedulerName",
            "\"random\" is already the name of a built-in scheduler; give the profile another schedulerName (the scenario's schedulerConfig is at t.yaml:2:3)",
        );
    }
}
