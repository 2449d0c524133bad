//! `schedulerConfig:` (a KubeSchedulerConfiguration, in a file or inline) and
//! `schedulers:`, the algorithms a scenario runs with.

use std::path::Path;

use schedulers::framework::config::{load_scheduler_config, parse_scheduler_config};
use schedulers::framework::plugin_registry::ResolvedProfile;
use schedulers::spec::ArgErrorKind;
use schedulers::yaml::line_column;
use schedulers::{SchedulerSpec, SpecError, exec, field_path};
use serde_saphyr::{Location, Spanned};

use super::super::raw::{RawSchedulerConfig, RawSchedulerEntry, RawSchedulerMap};
use super::{Builder, Result, ScenarioError};
use crate::scenario::{ListedScheduler, SchedulerCheck};

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
        check: &SchedulerCheck<'_>,
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
        config
            .refuse_taken_names(&|name| is_taken(check, name))
            .map_err(|e| {
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

    /// `schedulers:`: strings in the command-line form or `{name, args}` mappings, each
    /// checked by `check` (a registered name or one of `profiles`, with valid arguments)
    /// and labelled; no two may share a label.
    pub(super) fn schedulers(
        &self,
        list: &[Spanned<RawSchedulerEntry>],
        profiles: &[(String, ResolvedProfile)],
        check: &SchedulerCheck<'_>,
    ) -> Result<Vec<ListedScheduler>> {
        let mut out: Vec<ListedScheduler> = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let base = format!("schedulers[{i}]");
            let listed = match &item.value {
                RawSchedulerEntry::Text(text) => {
                    self.scheduler_text(text, &item.referenced, &base, profiles, check)?
                }
                RawSchedulerEntry::Map(map) => {
                    self.scheduler_map(map, &item.referenced, &base, profiles, check)?
                }
            };
            if let Some(j) = out.iter().position(|s| s.label == listed.label) {
                return Err(self.kube.err(
                    &item.referenced,
                    &base,
                    format!(
                        "scheduler {:?} is listed twice: schedulers[{j}] has the same run label",
                        listed.label
                    ),
                ));
            }
            out.push(listed);
        }
        Ok(out)
    }

    /// One `schedulers:` entry written as a string, `NAME` or `NAME:ARG=VALUE,...`; every
    /// error points at the string.
    fn scheduler_text(
        &self,
        text: &str,
        at: &Location,
        base: &str,
        profiles: &[(String, ResolvedProfile)],
        check: &SchedulerCheck<'_>,
    ) -> Result<ListedScheduler> {
        if text.starts_with(exec::PREFIX) {
            return Err(self.kube.err(at, base, exec_refused(text)));
        }
        let spec =
            SchedulerSpec::parse(text).map_err(|e| self.kube.err(at, base, e.to_string()))?;
        let label = check(&spec, profiles).map_err(|e| self.kube.err(at, base, e.to_string()))?;
        Ok(ListedScheduler { spec, label })
    }

    /// One `schedulers:` entry written as a mapping, `{name: NAME, args: {ARG: VALUE}}`:
    /// an unknown name points at the name, an unknown argument at its key, a bad value at
    /// the value.
    fn scheduler_map(
        &self,
        map: &RawSchedulerMap,
        entry: &Location,
        base: &str,
        profiles: &[(String, ResolvedProfile)],
        check: &SchedulerCheck<'_>,
    ) -> Result<ListedScheduler> {
        let name_field = format!("{base}.name");
        let Some(name) = &map.name else {
            return Err(self.kube.err(
                entry,
                &name_field,
                "missing required field `name` (the scheduler's name, such as tetris)",
            ));
        };
        let at = &name.referenced;
        if name.value.trim().is_empty() {
            return Err(self.kube.err(
                at,
                &name_field,
                "expected a scheduler name, got an empty string",
            ));
        }
        if name.value.starts_with(exec::PREFIX) {
            return Err(self.kube.err(at, &name_field, exec_refused(&name.value)));
        }
        let args_base = format!("{base}.args");
        let entries = map
            .args
            .as_ref()
            .map(|a| a.0.as_slice())
            .unwrap_or_default();
        let mut spec = SchedulerSpec::named(name.value.as_str());
        for (key, value) in entries {
            let Some(arg) = &value.value.0 else {
                return Err(self.kube.err(
                    &key.referenced,
                    &field_path::key(&args_base, &key.value),
                    format!(
                        "scheduler {:?}: argument {:?} has no value (write {}: VALUE)",
                        name.value, key.value, key.value
                    ),
                ));
            };
            spec.args.insert(key.value.clone(), arg.clone());
        }
        let label = check(&spec, profiles).map_err(|e| {
            let mut message = e.to_string();
            let SpecError::Argument(arg) = &e else {
                if name.value.contains(':') {
                    message.push_str("; in a mapping, arguments go under `args`");
                }
                return self.kube.err(at, &name_field, message);
            };
            match entries.iter().find(|(k, _)| k.value == arg.argument) {
                Some((key, value)) => {
                    let field = field_path::key(&args_base, &key.value);
                    if matches!(arg.kind, ArgErrorKind::Unknown { .. }) {
                        self.kube.err(&key.referenced, &field, message)
                    } else {
                        self.kube.err(&value.referenced, &field, message)
                    }
                }
                None => self.kube.err(entry, base, message),
            }
        })?;
        Ok(ListedScheduler { spec, label })
    }
}

/// The message for an external program in a scenario's list: they are started from the
/// command line only, where their path is checked before anything runs.
fn exec_refused(name: &str) -> String {
    format!(
        "unknown scheduler {name:?}: external schedulers are named on the command line only (--scheduler {name})"
    )
}

/// Whether a registered scheduler already has `name` (whatever the arguments written after
/// it), which a profile of the scenario's own configuration may not take.
fn is_taken(check: &SchedulerCheck<'_>, name: &str) -> bool {
    !name.starts_with(exec::PREFIX)
        && SchedulerSpec::parse(name)
            .is_ok_and(|spec| check(&SchedulerSpec::named(spec.name), &[]).is_ok())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use schedulers::ArgValue;
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
        let labels: Vec<&str> = s.schedulers.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["first-fit", "packer"]);
        let names: Vec<&str> = s.profiles.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["packer"]);
        assert!(s.profile_warnings.is_empty());
    }

    #[test]
    fn schedulers_are_strings_or_mappings_with_typed_arguments() {
        let s = load(
            "schedulers:
  - first-fit
  - \"tetris:cpuWeight=2\"
  - {name: tetris, args: {memoryWeight: 0.5, cpuWeight: 2}}
  - name: flow
    args:
      maxWait: 300
      waitWeight: \"3\"
  - {name: fgd, args: {workload: cluster}}
  - {name: most-allocated, args: {}}
  - {name: least-allocated, args: ~}
  - {name: best-fit, args: {}}
",
        );
        let got: Vec<(&str, String)> = s
            .schedulers
            .iter()
            .map(|s| (s.label.as_str(), s.spec.to_string()))
            .collect();
        let want = [
            ("first-fit", "first-fit"),
            ("tetris:cpuWeight=2", "tetris:cpuWeight=2"),
            (
                "tetris:cpuWeight=2,memoryWeight=0.5",
                "tetris:cpuWeight=2,memoryWeight=0.5",
            ),
            (
                "flow:waitWeight=3,maxWait=300",
                "flow:maxWait=300,waitWeight=3",
            ),
            ("fgd:workload=cluster", "fgd:workload=cluster"),
            ("most-allocated", "most-allocated"),
            ("least-allocated", "least-allocated"),
            ("best-fit", "best-fit"),
        ];
        let want: Vec<(&str, String)> = want.iter().map(|(l, s)| (*l, s.to_string())).collect();
        assert_eq!(got, want);
        // YAML's types are kept: the parameter decides what it accepts.
        let args = |i: usize| -> Vec<(&str, &ArgValue)> {
            s.schedulers[i]
                .spec
                .args
                .iter()
                .map(|(k, v)| (k.as_str(), v))
                .collect()
        };
        assert_eq!(args(1), [("cpuWeight", &ArgValue::Text("2".into()))]);
        assert_eq!(
            args(2),
            [
                ("cpuWeight", &ArgValue::Int(2)),
                ("memoryWeight", &ArgValue::Float(0.5))
            ]
        );
        assert_eq!(
            args(3),
            [
                ("maxWait", &ArgValue::Int(300)),
                ("waitWeight", &ArgValue::Text("3".into()))
            ]
        );
        assert_eq!(args(4), [("workload", &ArgValue::Text("cluster".into()))]);
    }

    #[test]
    fn a_profile_of_the_scenario_is_named_in_either_form() {
        let config = "schedulerConfig:
  apiVersion: kubescheduler.config.k8s.io/v1
  kind: KubeSchedulerConfiguration
  profiles: [{schedulerName: packer}]
";
        let s = load(&format!("{config}schedulers: [{{name: packer}}, tetris]\n"));
        let labels: Vec<&str> = s.schedulers.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["packer", "tetris"]);
        check_at(
            &format!("{config}schedulers: [{{name: packer, args: {{weight: 2}}}}]\n"),
            "weight: 2",
            "schedulers[0].args.weight",
            "scheduler \"packer\" takes no arguments, got \"weight\"",
        );
        check_at(
            &format!("{config}schedulers: [{{name: pakcer}}]\n"),
            "pakcer",
            "schedulers[0].name",
            "unknown scheduler \"pakcer\"; did you mean \"packer\"? (known: artifact-best-fit, artifact-dotprod, artifact-gpu-clustering, \
             artifact-gpu-packing, artifact-random, best-fit, drf, fgd, \
             first-fit, flow, kube-default, least-allocated, most-allocated, packer, random, \
             round-robin, tetris, worst-fit)",
        );
    }

    #[test]
    fn argument_errors_are_located_at_the_argument() {
        // The map form: an unknown argument at its key, a bad value at the value.
        check_at(
            "schedulers: [first-fit, {name: tetris, args: {cpuWeigth: 2}}]\n",
            "cpuWeigth",
            "schedulers[1].args.cpuWeigth",
            "scheduler \"tetris\": unknown argument \"cpuWeigth\"; did you mean \"cpuWeight\"? \
             (tetris takes cpuWeight, memoryWeight, gpuWeight, otherWeight)",
        );
        check_at(
            "schedulers:\n  - first-fit\n  - name: tetris\n    args:\n      cpuWeight: 2\n      memoryWeight: heavy\n",
            "heavy",
            "schedulers[1].args.memoryWeight",
            "scheduler \"tetris\": argument \"memoryWeight\" takes number 0..=1000000, got \"heavy\"",
        );
        check_at(
            "schedulers: [{name: tetris, args: {cpuWeight: -2}}]\n",
            "-2",
            "schedulers[0].args.cpuWeight",
            "scheduler \"tetris\": argument \"cpuWeight\" is out of range: it takes number 0..=1000000, got -2",
        );
        check_at(
            "schedulers: [{name: flow, args: {maxWait: 2.5}}]\n",
            "2.5",
            "schedulers[0].args.maxWait",
            "scheduler \"flow\": argument \"maxWait\" is out of range: it takes integer 0..=1000000, got 2.5",
        );
        check_at(
            "schedulers: [{name: fgd, args: {workload: true}}]\n",
            "true",
            "schedulers[0].args.workload",
            "scheduler \"fgd\": argument \"workload\" takes one of scenario, cluster, got \"true\"",
        );
        check_at(
            "schedulers: [{name: first-fit, args: {rounds: 2}}]\n",
            "rounds",
            "schedulers[0].args.rounds",
            "scheduler \"first-fit\" takes no arguments, got \"rounds\"",
        );
        check_at(
            "schedulers:\n  - name: tetris\n    args:\n      cpuWeight:\n",
            "cpuWeight",
            "schedulers[0].args.cpuWeight",
            "scheduler \"tetris\": argument \"cpuWeight\" has no value (write cpuWeight: VALUE)",
        );
        check_at(
            "schedulers: [{name: tetris, args: {cpuWeight: [2]}}]\n",
            "[2]",
            "schedulers[0].args.cpuWeight",
            "expected a single value (a number, a boolean or a word), got a list",
        );
        // The string form: every error at the string, naming the argument.
        check_at(
            "schedulers: [first-fit, \"flow:waitWeigth=0\"]\n",
            "\"flow",
            "schedulers[1]",
            "scheduler \"flow\": unknown argument \"waitWeigth\"; did you mean \"waitWeight\"? \
             (flow takes placementWeight, waitWeight, maxWait)",
        );
        check_at(
            "schedulers: [\"tetris:cpuWeight=x\"]\n",
            "\"tetris",
            "schedulers[0]",
            "scheduler \"tetris\": argument \"cpuWeight\" takes number 0..=1000000, got \"x\"",
        );
        check_at(
            "schedulers: [\"tetris:cpuWeight=1,cpuWeight=2\"]\n",
            "\"tetris",
            "schedulers[0]",
            "scheduler \"tetris\": argument \"cpuWeight\" is given twice",
        );
    }

    #[test]
    fn entry_errors_are_located_at_the_entry_or_its_name() {
        check_at(
            "schedulers: [first-fit, \"tetris:\"]\n",
            "\"tetris",
            "schedulers[1]",
            "scheduler \"tetris:\": nothing after ':' (write NAME:ARG=VALUE,... or just NAME)",
        );
        check_at(
            "schedulers: [first-fit, {name: tetirs}]\n",
            "tetirs",
            "schedulers[1].name",
            "unknown scheduler \"tetirs\"; did you mean \"tetris\"? (known: artifact-best-fit, artifact-dotprod, artifact-gpu-clustering, \
             artifact-gpu-packing, artifact-random, best-fit, drf, fgd, \
             first-fit, flow, kube-default, least-allocated, most-allocated, random, round-robin, \
             tetris, worst-fit)",
        );
        check_at(
            "schedulers: [first-fit, {args: {cpuWeight: 2}}]\n",
            "{args",
            "schedulers[1].name",
            "missing required field `name` (the scheduler's name, such as tetris)",
        );
        check_at(
            "schedulers: [{name: 'tetris:cpuWeight=2'}]\n",
            "'tetris",
            "schedulers[0].name",
            "unknown scheduler \"tetris:cpuWeight=2\" (known: artifact-best-fit, artifact-dotprod, artifact-gpu-clustering, \
             artifact-gpu-packing, artifact-random, best-fit, drf, fgd, first-fit, flow, \
             kube-default, least-allocated, most-allocated, random, round-robin, tetris, \
             worst-fit); in a mapping, arguments go under `args`",
        );
        check_at(
            "schedulers: [{name: ''}]\n",
            "''",
            "schedulers[0].name",
            "expected a scheduler name, got an empty string",
        );
        check_at(
            "schedulers: [{name: 'exec:./mine'}]\n",
            "'exec",
            "schedulers[0].name",
            "unknown scheduler \"exec:./mine\": external schedulers are named on the command line only (--scheduler exec:./mine)",
        );
        check_at(
            "schedulers:\n  - first-fit\n  - name: tetris\n    arg: {cpuWeight: 2}\n",
            "arg:",
            "schedulers[1].arg",
            "unknown field `arg` (did you mean `args`?); allowed here: name, args",
        );
        check_at(
            "schedulers: [first-fit, [tetris]]\n",
            "[tetris",
            "schedulers[1]",
            "expected a scheduler such as tetris:cpuWeight=2, or a mapping such as {name: tetris, \
             args: {cpuWeight: 2}}, got a list",
        );
        // Entries that run the same scheduler with the same arguments, however written.
        check_at(
            "schedulers: [tetris, {name: tetris, args: {cpuWeight: 1.0}}]\n",
            "{name",
            "schedulers[1]",
            "scheduler \"tetris\" is listed twice: schedulers[0] has the same run label",
        );
        check_at(
            "schedulers: [first-fit, {name: tetris, args: {cpuWeight: 2}}, \"tetris:cpuWeight=2.0\"]\n",
            "\"tetris",
            "schedulers[2]",
            "scheduler \"tetris:cpuWeight=2\" is listed twice: schedulers[1] has the same run label",
        );
    }

    #[test]
    fn scheduling_errors_are_located() {
        check_at(
            "schedulers: [first-fit, best-fti]\n",
            "best-fti",
            "schedulers[1]",
            "unknown scheduler \"best-fti\"; did you mean \"best-fit\"? (known: artifact-best-fit, artifact-dotprod, artifact-gpu-clustering, \
             artifact-gpu-packing, artifact-random, best-fit, drf, \
             fgd, first-fit, flow, kube-default, least-allocated, most-allocated, random, \
             round-robin, tetris, worst-fit)",
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
            "scheduler \"random\" is listed twice: schedulers[0] has the same run label",
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
        // Inline as in a file: the version is checked before any key is decoded, so a
        // v1beta3 mapping with a key v1 lacks reports the version.
        check_at(
            "schedulerConfig:\n  apiVersion: kubescheduler.config.k8s.io/v1beta3\n  kind: KubeSchedulerConfiguration\n  bogusKey: 1\n",
            "kubescheduler.config.k8s.io/v1beta3",
            "schedulerConfig.apiVersion",
            "unsupported version \"kubescheduler.config.k8s.io/v1beta3\"; schedlab reads kubescheduler.config.k8s.io/v1 (the beta versions are no longer served since Kubernetes v1.29; the v1 format differs little: see docs/scheduler-config.md)",
        );
        check_at(
            "schedulerConfig:\n  apiVersion: kubescheduler.config.k8s.io/v1\n  kind: KubeSchedulerConfiguration\n  profiles: [{schedulerName: random}]\n",
            "random",
            "profiles[0].schedulerName",
            "\"random\" is already the name of a built-in scheduler; give the profile another schedulerName (the scenario's schedulerConfig is at t.yaml:2:3)",
        );
    }
}
