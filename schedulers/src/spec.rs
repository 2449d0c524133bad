//! Schedulers named with arguments: what a user asks for ([`SchedulerSpec`]), the
//! parameters each algorithm declares ([`Param`]), their validation into typed [`Args`],
//! and the errors, each naming the scheduler and the argument at fault.
//!
//! This follows kube-scheduler's typed plugin arguments (`apis/config/types_pluginargs.go`):
//! every parameter has a type, a range, a default stated in its documentation, and is
//! validated once, when the scheduler is built, never during a run.
//!
//! # Syntax
//!
//! On the command line a spec is `NAME` or `NAME:ARG=VALUE,ARG=VALUE,...`:
//!
//! ```text
//! tetris
//! tetris:cpuWeight=2,memoryWeight=0.5
//! flow:maxWait=300
//! exec:./my_scheduler.py          (an external program; everything after `exec:` is its path)
//! ```
//!
//! None of `:`, `=` and `,` means anything to a POSIX shell, so a spec needs no quoting;
//! none can appear in a registered name (Kubernetes scheduler names are DNS subdomains), so
//! the first `:` always ends the name. `exec:PATH` reads as the same shape, the external
//! scheduler with its one positional argument, the path, which is taken verbatim and may
//! itself hold `:`, `=` or `,`. Values are plain words: numbers (`2`, `0.5`, `1e3`) or the
//! words a parameter accepts (`cluster`).
//!
//! In a scenario file (`schedulers:`) a spec is the same string, or a map
//! `{name: tetris, args: {cpuWeight: 2}}` whose values keep YAML's types ([`ArgValue`]:
//! booleans, integers, floats, strings). The scenario loader reads both forms with their
//! positions, so that an error points at the argument; [`SchedulerSpec`] also implements
//! `serde::Deserialize` for both, for other hosts (JSON, say).
//!
//! # Labels
//!
//! A run is labelled (the `scheduler` column of `summary.csv` and its output directory) by
//! [`Args::label`]: the name, then `:` and the arguments that differ from their defaults,
//! in the order the algorithm declares them, values in canonical form (`2.0` is `2`). So a
//! spec without arguments, or with only default values, is labelled by its bare name, and
//! two specs that build the same scheduler get the same label.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use crate::suggest::closest;

/// A scheduler asked for by name, with the arguments given to it (not yet validated).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchedulerSpec {
    /// The registered name (`tetris`), a profile's `schedulerName`, or `exec:PATH`.
    pub name: String,
    /// The arguments as given, by name; checked against the algorithm's [`Param`]s when
    /// the scheduler is built.
    pub args: BTreeMap<String, ArgValue>,
}

/// One argument's value as given, before it is checked against its parameter. From the
/// command line every value is [`ArgValue::Text`]; from YAML or JSON it keeps its type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ArgValue {
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// Anything else, and every value written on the command line.
    Text(String),
}

impl fmt::Display for ArgValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgValue::Bool(b) => write!(f, "{b}"),
            ArgValue::Int(i) => write!(f, "{i}"),
            ArgValue::Float(x) => write!(f, "{x}"),
            ArgValue::Text(s) => f.write_str(s),
        }
    }
}

/// One parameter an algorithm declares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    /// Its name, in lowerCamelCase as Kubernetes spells configuration fields.
    pub name: &'static str,
    /// What values it takes.
    pub kind: ParamKind,
    /// Its value when not given.
    pub default: Value,
    /// One line saying what it does.
    pub doc: &'static str,
}

/// The type and range of a parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind {
    /// A whole number from `min` to `max`, both included.
    Int {
        /// The smallest value accepted.
        min: i64,
        /// The largest value accepted.
        max: i64,
    },
    /// A finite number from `min` to `max`, both included.
    Number {
        /// The smallest value accepted.
        min: f64,
        /// The largest value accepted.
        max: f64,
    },
    /// One of these words.
    Choice(&'static [&'static str]),
}

impl fmt::Display for ParamKind {
    /// What the parameter takes, as `schedlab schedulers` and the errors say it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamKind::Int { min, max } => write!(f, "integer {min}..={max}"),
            ParamKind::Number { min, max } => write!(f, "number {min}..={max}"),
            ParamKind::Choice(words) => write!(f, "one of {}", words.join(", ")),
        }
    }
}

/// A validated argument value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// For [`ParamKind::Int`].
    Int(i64),
    /// For [`ParamKind::Number`]; always finite.
    Number(f64),
    /// For [`ParamKind::Choice`]: one of its words.
    Choice(&'static str),
}

impl fmt::Display for Value {
    /// The canonical form used in labels: integers in decimal, numbers in the shortest form
    /// that reads back to the same value (`2`, `0.5`), words as they are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Number(x) => write!(f, "{x}"),
            Value::Choice(w) => f.write_str(w),
        }
    }
}

/// The validated arguments of one scheduler: every declared parameter with its value, the
/// default where none was given, in declaration order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Args {
    values: Vec<(Param, Value)>,
}

impl Args {
    /// The defaults of `params`.
    pub fn defaults(params: &[Param]) -> Args {
        Args {
            values: params.iter().map(|p| (*p, p.default)).collect(),
        }
    }

    /// Checks `given` against `params` for the scheduler `scheduler` (named in errors):
    /// every argument must be declared, of its type and in its range. Arguments are checked
    /// in name order, so the error reported for several bad ones is always the same.
    pub fn validate(
        scheduler: &str,
        params: &[Param],
        given: &BTreeMap<String, ArgValue>,
    ) -> Result<Args, ArgError> {
        let mut args = Args::defaults(params);
        for (name, raw) in given {
            let err = |kind| ArgError {
                scheduler: scheduler.to_string(),
                argument: name.clone(),
                kind,
            };
            let Some(slot) = args.values.iter_mut().find(|(p, _)| p.name == name) else {
                let known: Vec<&'static str> = params.iter().map(|p| p.name).collect();
                return Err(err(ArgErrorKind::Unknown {
                    suggestion: closest(name, &known),
                    known,
                }));
            };
            slot.1 = convert(&slot.0, raw).map_err(err)?;
        }
        Ok(args)
    }

    /// The value of parameter `name`, if the algorithm declares it.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.values
            .iter()
            .find(|(p, _)| p.name == name)
            .map(|(_, v)| *v)
    }

    /// The integer parameter `name`, if declared as one.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The number parameter `name`, if declared as one.
    pub fn number(&self, name: &str) -> Option<f64> {
        match self.get(name)? {
            Value::Number(x) => Some(x),
            _ => None,
        }
    }

    /// The word chosen for parameter `name`, if declared as a choice.
    pub fn choice(&self, name: &str) -> Option<&'static str> {
        match self.get(name)? {
            Value::Choice(w) => Some(w),
            _ => None,
        }
    }

    /// The run label of `scheduler` with these arguments: the bare name when every value
    /// is its default, else `name:arg=value,...` with the other arguments in declaration
    /// order (see the module docs).
    pub fn label(&self, scheduler: &str) -> String {
        let mut label = scheduler.to_string();
        let mut sep = ':';
        for (param, value) in &self.values {
            if *value != param.default {
                label.push(sep);
                label.push_str(param.name);
                label.push('=');
                label.push_str(&value.to_string());
                sep = ',';
            }
        }
        label
    }
}

/// `raw` as a value of `param`, or why not.
fn convert(param: &Param, raw: &ArgValue) -> Result<Value, ArgErrorKind> {
    let wrong = || ArgErrorKind::WrongType {
        expected: param.kind,
        got: raw.to_string(),
    };
    let out_of_range = || ArgErrorKind::OutOfRange {
        expected: param.kind,
        got: raw.to_string(),
    };
    match param.kind {
        ParamKind::Int { min, max } => {
            let value = match raw {
                ArgValue::Int(i) => *i,
                // 2.0 is a whole number, written as YAML writes floats.
                ArgValue::Float(x) if x.fract() == 0.0 && x.abs() < 9e15 => *x as i64,
                ArgValue::Text(s) => match (s.trim().parse::<i64>(), s.trim().parse::<f64>()) {
                    (Ok(i), _) => i,
                    (_, Ok(x)) if x.fract() == 0.0 && x.abs() < 9e15 => x as i64,
                    // A number, but not a whole one (or too big): the type is right, the
                    // value is not.
                    (_, Ok(x)) if x.is_finite() => return Err(out_of_range()),
                    _ => return Err(wrong()),
                },
                ArgValue::Float(x) if x.is_finite() => return Err(out_of_range()),
                _ => return Err(wrong()),
            };
            if value < min || value > max {
                return Err(out_of_range());
            }
            Ok(Value::Int(value))
        }
        ParamKind::Number { min, max } => {
            let value = match raw {
                ArgValue::Int(i) => *i as f64,
                ArgValue::Float(x) => *x,
                ArgValue::Text(s) => s.trim().parse::<f64>().map_err(|_| wrong())?,
                ArgValue::Bool(_) => return Err(wrong()),
            };
            // NaN fails both comparisons, so it is refused here too.
            if !(value >= min && value <= max) {
                return Err(out_of_range());
            }
            // -0 and 0 are the same weight; one spelling keeps labels canonical.
            Ok(Value::Number(if value == 0.0 { 0.0 } else { value }))
        }
        ParamKind::Choice(words) => {
            let ArgValue::Text(s) = raw else {
                return Err(wrong());
            };
            match words.iter().find(|w| **w == s.trim()) {
                Some(w) => Ok(Value::Choice(w)),
                None => Err(wrong()),
            }
        }
    }
}

impl SchedulerSpec {
    /// A spec naming `name` with no arguments.
    pub fn named(name: impl Into<String>) -> SchedulerSpec {
        SchedulerSpec {
            name: name.into(),
            args: BTreeMap::new(),
        }
    }

    /// Reads the command-line form `NAME` or `NAME:ARG=VALUE,...` (see the module docs);
    /// `exec:PATH` is a name as a whole. Refuses an empty name, an empty argument list or
    /// argument, an argument without a value and an argument given twice.
    pub fn parse(text: &str) -> Result<SchedulerSpec, SpecError> {
        let syntax = |message: &str| SpecError::Syntax {
            text: text.to_string(),
            message: message.to_string(),
        };
        if text.starts_with(crate::exec::PREFIX) {
            return Ok(SchedulerSpec::named(text));
        }
        let (name, rest) = match text.split_once(':') {
            Some((name, rest)) => (name.trim(), Some(rest)),
            None => (text.trim(), None),
        };
        if name.is_empty() {
            return Err(syntax(
                "no scheduler name (write NAME or NAME:ARG=VALUE,...)",
            ));
        }
        let mut spec = SchedulerSpec::named(name);
        let Some(rest) = rest else {
            return Ok(spec);
        };
        if rest.trim().is_empty() {
            return Err(syntax(
                "nothing after ':' (write NAME:ARG=VALUE,... or just NAME)",
            ));
        }
        for item in rest.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(syntax("an empty argument between commas"));
            }
            let arg_error = |argument: &str, kind| {
                SpecError::Argument(ArgError {
                    scheduler: name.to_string(),
                    argument: argument.to_string(),
                    kind,
                })
            };
            let (arg, value) = match item.split_once('=') {
                Some((arg, value)) => (arg.trim(), value.trim()),
                None => (item, ""),
            };
            if arg.is_empty() {
                return Err(syntax("an argument without a name before '='"));
            }
            if value.is_empty() {
                return Err(arg_error(arg, ArgErrorKind::MissingValue));
            }
            if spec.args.contains_key(arg) {
                return Err(arg_error(arg, ArgErrorKind::Repeated));
            }
            spec.args
                .insert(arg.to_string(), ArgValue::Text(value.to_string()));
        }
        Ok(spec)
    }
}

impl FromStr for SchedulerSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<SchedulerSpec, SpecError> {
        SchedulerSpec::parse(text)
    }
}

impl fmt::Display for SchedulerSpec {
    /// The command-line form, arguments in name order, values as given.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        let mut sep = ':';
        for (name, value) in &self.args {
            write!(f, "{sep}{name}={value}")?;
            sep = ',';
        }
        Ok(())
    }
}

/// The map form of a spec in YAML or JSON: `{name: tetris, args: {cpuWeight: 2}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecMap {
    name: String,
    #[serde(default)]
    args: BTreeMap<String, ArgValue>,
}

/// Either form of a spec in YAML or JSON.
#[derive(Deserialize)]
#[serde(untagged)]
enum SpecForm {
    Text(String),
    Map(SpecMap),
}

impl<'de> Deserialize<'de> for SchedulerSpec {
    /// A string in the command-line form, or a map with `name` and optional `args`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SchedulerSpec, D::Error> {
        match SpecForm::deserialize(d)? {
            SpecForm::Text(text) => SchedulerSpec::parse(&text).map_err(serde::de::Error::custom),
            SpecForm::Map(map) => Ok(SchedulerSpec {
                name: map.name,
                args: map.args,
            }),
        }
    }
}

/// Why a scheduler spec cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The text is not `NAME` or `NAME:ARG=VALUE,...`.
    #[error("scheduler {text:?}: {message}")]
    Syntax {
        /// The text as given.
        text: String,
        /// What is wrong with it.
        message: String,
    },
    /// No scheduler has that name.
    #[error(transparent)]
    Unknown(#[from] crate::registry::UnknownScheduler),
    /// An argument is refused.
    #[error(transparent)]
    Argument(#[from] ArgError),
    /// An `exec:PATH` program cannot be run.
    #[error("scheduler {name:?}: {message}")]
    Program {
        /// `exec:PATH`.
        name: String,
        /// Why the program cannot be used.
        message: String,
    },
}

/// An argument a scheduler refuses, naming both.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgError {
    /// The scheduler's name.
    pub scheduler: String,
    /// The argument's name as given.
    pub argument: String,
    /// What is wrong.
    pub kind: ArgErrorKind,
}

/// What is wrong with an argument.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ArgErrorKind {
    /// The scheduler declares no parameter of that name (`known` is empty for an algorithm
    /// that takes no arguments).
    Unknown {
        /// The declared name closest to it, if it looks like a typo.
        suggestion: Option<&'static str>,
        /// Every declared parameter, in declaration order.
        known: Vec<&'static str>,
    },
    /// The value is not of the parameter's type (a word for a number, an unknown choice).
    WrongType {
        /// What the parameter takes.
        expected: ParamKind,
        /// The value as given.
        got: String,
    },
    /// The value is of the right type but outside the parameter's range.
    OutOfRange {
        /// What the parameter takes.
        expected: ParamKind,
        /// The value as given.
        got: String,
    },
    /// `ARG` or `ARG=` with nothing after it.
    MissingValue,
    /// The same argument twice.
    Repeated,
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, a) = (&self.scheduler, &self.argument);
        match &self.kind {
            ArgErrorKind::Unknown { known, .. } if known.is_empty() => {
                write!(f, "scheduler {s:?} takes no arguments, got {a:?}")
            }
            ArgErrorKind::Unknown { suggestion, known } => {
                write!(f, "scheduler {s:?}: unknown argument {a:?}")?;
                if let Some(near) = suggestion {
                    write!(f, "; did you mean {near:?}?")?;
                }
                write!(f, " ({s} takes {})", known.join(", "))
            }
            ArgErrorKind::WrongType { expected, got } => {
                write!(
                    f,
                    "scheduler {s:?}: argument {a:?} takes {expected}, got {got:?}"
                )
            }
            ArgErrorKind::OutOfRange { expected, got } => {
                write!(
                    f,
                    "scheduler {s:?}: argument {a:?} is out of range: it takes {expected}, got {got}"
                )
            }
            ArgErrorKind::MissingValue => {
                write!(
                    f,
                    "scheduler {s:?}: argument {a:?} has no value (write {a}=VALUE)"
                )
            }
            ArgErrorKind::Repeated => {
                write!(f, "scheduler {s:?}: argument {a:?} is given twice")
            }
        }
    }
}

impl std::error::Error for ArgError {}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: &[Param] = &[
        Param {
            name: "cpuWeight",
            kind: ParamKind::Number {
                min: 0.0,
                max: 1000.0,
            },
            default: Value::Number(1.0),
            doc: "a weight",
        },
        Param {
            name: "rounds",
            kind: ParamKind::Int { min: 1, max: 64 },
            default: Value::Int(16),
            doc: "a count",
        },
        Param {
            name: "workload",
            kind: ParamKind::Choice(&["scenario", "cluster"]),
            default: Value::Choice("scenario"),
            doc: "a choice",
        },
    ];

    /// Parses and validates `text` against `PARAMS` as scheduler `s`: its label, or the
    /// error's text.
    fn check(text: &str) -> Result<String, String> {
        let spec = SchedulerSpec::parse(text).map_err(|e| e.to_string())?;
        let args = Args::validate(&spec.name, PARAMS, &spec.args).map_err(|e| e.to_string())?;
        Ok(args.label(&spec.name))
    }

    #[test]
    fn labels_are_canonical() {
        for (text, label) in [
            ("s", "s"),
            ("s:cpuWeight=1", "s"),
            ("s:cpuWeight=1.0,rounds=16,workload=scenario", "s"),
            ("s:cpuWeight=2", "s:cpuWeight=2"),
            ("s:cpuWeight=2.0", "s:cpuWeight=2"),
            ("s:cpuWeight=2e0", "s:cpuWeight=2"),
            ("s:cpuWeight=0.50", "s:cpuWeight=0.5"),
            ("s:cpuWeight=-0", "s:cpuWeight=0"),
            ("s:rounds=+8", "s:rounds=8"),
            // Declaration order, whatever the order given.
            (
                "s:workload=cluster,rounds=4,cpuWeight=3",
                "s:cpuWeight=3,rounds=4,workload=cluster",
            ),
            (" s : cpuWeight = 3 ", "s:cpuWeight=3"),
            ("s:rounds=1e1", "s:rounds=10"),
        ] {
            assert_eq!(check(text), Ok(label.to_string()), "{text}");
        }
    }

    #[test]
    fn each_error_names_the_scheduler_and_the_argument() {
        for (text, message) in [
            (
                "s:cpuWeigth=2",
                r#"scheduler "s": unknown argument "cpuWeigth"; did you mean "cpuWeight"? (s takes cpuWeight, rounds, workload)"#,
            ),
            (
                "s:zzz=2",
                r#"scheduler "s": unknown argument "zzz" (s takes cpuWeight, rounds, workload)"#,
            ),
            (
                "s:cpuWeight=heavy",
                r#"scheduler "s": argument "cpuWeight" takes number 0..=1000, got "heavy""#,
            ),
            (
                "s:cpuWeight=NaN",
                r#"scheduler "s": argument "cpuWeight" is out of range: it takes number 0..=1000, got NaN"#,
            ),
            (
                "s:cpuWeight=-1",
                r#"scheduler "s": argument "cpuWeight" is out of range: it takes number 0..=1000, got -1"#,
            ),
            (
                "s:rounds=0",
                r#"scheduler "s": argument "rounds" is out of range: it takes integer 1..=64, got 0"#,
            ),
            (
                "s:rounds=2.5",
                r#"scheduler "s": argument "rounds" is out of range: it takes integer 1..=64, got 2.5"#,
            ),
            (
                "s:rounds=many",
                r#"scheduler "s": argument "rounds" takes integer 1..=64, got "many""#,
            ),
            (
                "s:workload=trace",
                r#"scheduler "s": argument "workload" takes one of scenario, cluster, got "trace""#,
            ),
            (
                "s:rounds",
                r#"scheduler "s": argument "rounds" has no value (write rounds=VALUE)"#,
            ),
            (
                "s:rounds=",
                r#"scheduler "s": argument "rounds" has no value (write rounds=VALUE)"#,
            ),
            (
                "s:rounds=2,rounds=3",
                r#"scheduler "s": argument "rounds" is given twice"#,
            ),
            (
                ":rounds=2",
                r#"scheduler ":rounds=2": no scheduler name (write NAME or NAME:ARG=VALUE,...)"#,
            ),
            (
                "s:",
                r#"scheduler "s:": nothing after ':' (write NAME:ARG=VALUE,... or just NAME)"#,
            ),
            (
                "s:rounds=2,",
                r#"scheduler "s:rounds=2,": an empty argument between commas"#,
            ),
            (
                "s:=2",
                r#"scheduler "s:=2": an argument without a name before '='"#,
            ),
        ] {
            assert_eq!(check(text), Err(message.to_string()), "{text}");
        }
    }

    #[test]
    fn an_algorithm_without_parameters_refuses_any_argument() {
        let spec = SchedulerSpec::parse("first-fit:rounds=2").unwrap();
        let e = Args::validate(&spec.name, &[], &spec.args).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"scheduler "first-fit" takes no arguments, got "rounds""#
        );
        assert_eq!(
            Args::validate("first-fit", &[], &BTreeMap::new()).map(|a| a.label("first-fit")),
            Ok("first-fit".to_string())
        );
    }

    #[test]
    fn exec_paths_are_names_as_a_whole() {
        let spec = SchedulerSpec::parse("exec:./a:b=c,d.py").unwrap();
        assert_eq!(spec, SchedulerSpec::named("exec:./a:b=c,d.py"));
    }

    #[test]
    fn typed_values_from_yaml_or_json() {
        let specs: Vec<SchedulerSpec> = serde_json::from_str(
            r#"["tetris:cpuWeight=2",
                {"name": "s", "args": {"cpuWeight": 2, "rounds": 4.0, "workload": "cluster"}},
                {"name": "s"}]"#,
        )
        .unwrap();
        assert_eq!(specs[0].args["cpuWeight"], ArgValue::Text("2".into()));
        assert_eq!(specs[1].args["cpuWeight"], ArgValue::Int(2));
        assert_eq!(specs[1].args["rounds"], ArgValue::Float(4.0));
        let args = Args::validate("s", PARAMS, &specs[1].args).unwrap();
        assert_eq!(args.label("s"), "s:cpuWeight=2,rounds=4,workload=cluster");
        assert_eq!(args.number("cpuWeight"), Some(2.0));
        assert_eq!(args.int("rounds"), Some(4));
        assert_eq!(args.choice("workload"), Some("cluster"));
        assert!(specs[2].args.is_empty());
        // Booleans and numbers where a word is expected are the wrong type.
        let wrong: SchedulerSpec =
            serde_json::from_str(r#"{"name": "s", "args": {"workload": true}}"#).unwrap();
        assert!(matches!(
            Args::validate("s", PARAMS, &wrong.args).unwrap_err().kind,
            ArgErrorKind::WrongType { .. }
        ));
        // Unknown keys and bad strings are refused by the deserializer.
        assert!(serde_json::from_str::<SchedulerSpec>(r#"{"name": "s", "arg": {}}"#).is_err());
        assert!(serde_json::from_str::<SchedulerSpec>(r#""s:""#).is_err());
    }

    #[test]
    fn display_is_the_command_line_form() {
        let spec = SchedulerSpec::parse("s:workload=cluster,cpuWeight=2").unwrap();
        assert_eq!(spec.to_string(), "s:cpuWeight=2,workload=cluster");
        assert_eq!(SchedulerSpec::parse(&spec.to_string()), Ok(spec));
    }
}
